"""Engine and session factory. SQLite runs in WAL mode with synchronous=FULL and foreign keys on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, read_only: bool = False, **kwargs: object) -> Engine:
    """An engine for ``url``. On SQLite, transactions take the write lock when they begin
    (BEGIN IMMEDIATE), so two writers queue instead of failing on a lock upgrade; ``read_only``
    engines (the request's read sessions) begin deferred and never block the writer."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself.
        begin = "BEGIN" if read_only else "BEGIN IMMEDIATE"
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(begin))
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    dbapi_connection.isolation_level = None


def make_session_factory(engine: Engine, audit_key: str | None = None) -> sessionmaker[Session]:
    """Sessions of ``engine``; those that write audit events need the audit log's key (it travels in
    ``session.info``: cbt.services.audit)."""
    return sessionmaker(engine, expire_on_commit=False, info={"audit_key": audit_key})


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Commit what the block did, or roll all of it back if it raises: one use case, one transaction."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
