"""Engine and session factory. SQLite runs in WAL mode with synchronous=FULL and foreign keys on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, read_only: bool = False, checkpoints: bool = True, **kwargs: object) -> Engine:
    """An engine for ``url``. On SQLite, transactions take the write lock when they begin
    (BEGIN IMMEDIATE), so two writers queue instead of failing on a lock upgrade; ``read_only``
    engines (the request's read sessions) begin deferred and never block the writer. Without
    ``checkpoints`` a commit never copies the WAL into the database file itself: whoever asks for
    that must call :func:`checkpoint` now and then (the server's writer does, off its own path)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", partial(_sqlite_pragmas, checkpoints=checkpoints))
        # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself.
        begin = "BEGIN" if read_only else "BEGIN IMMEDIATE"
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(begin))
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection, _record, *, checkpoints: bool) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    if not checkpoints:
        cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()
    dbapi_connection.isolation_level = None


def checkpoint(engine: Engine) -> tuple[int, int]:
    """Copy what is committed in SQLite's WAL into the database file, blocking no reader and no
    writer (PASSIVE); (frames in the WAL, frames copied). With readers always about, a commit's own
    automatic checkpoint would copy and fsync a little on nearly every commit of a busy exam."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        _busy, frames, copied = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        cursor.close()
        return frames, copied
    finally:
        raw.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Commit what the block did, or roll all of it back if it raises: one use case, one transaction."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
