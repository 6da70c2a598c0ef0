"""Migrations run on SQLite and PostgreSQL and produce exactly the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from cbt.db import migrate
from cbt.db.base import Base
from cbt.db.session import make_engine


def test_upgrade_matches_models_and_downgrades(db_url):
    engine = make_engine(db_url)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    assert {"packs", "items", "item_versions", "blueprints", "forms", "form_items", "audit_events"} <= set(
        inspect(engine).get_table_names()
    )
    migrate.upgrade(engine)  # idempotent
    migrate.downgrade(engine, "base")
    assert "items" not in inspect(engine).get_table_names()
    engine.dispose()


def test_constraint_names_follow_the_convention(engine):
    uniques = {u["name"] for u in inspect(engine).get_unique_constraints("items")}
    assert "uq_items_pack_id" in uniques


def test_sqlite_is_durable_wal_with_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
