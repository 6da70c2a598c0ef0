"""Alembic environment: run by cbt.db.migrate (the CLI), never at import time."""

from __future__ import annotations

from alembic import context

from cbt.db import models  # noqa: F401  (registers the tables on Base.metadata)
from cbt.db.base import Base

config = context.config
connection = config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
