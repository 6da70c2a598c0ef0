"""Use cases. Each takes a database session, ``now`` and the acting user explicitly and runs one transaction."""
