"""The pure domain: item types, packs, blueprints, assembly and scoring.

Nothing here imports a framework, touches a database or reads the clock; callers pass in what
the rules need. A test walks these imports and fails if that ever changes.
"""
