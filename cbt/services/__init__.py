"""Use cases. Each takes a database session, ``now`` and the acting user explicitly, and never commits:
the caller owns the unit of work (the writer on exam day, ``cbt.db.session.transaction`` elsewhere)."""
