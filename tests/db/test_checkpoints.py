"""SQLite's WAL is copied into the database file beside the writer, never by the writer's commits."""

from __future__ import annotations

import threading

from sqlalchemy import text
from sqlalchemy.pool import StaticPool

from cbt.db.session import checkpoint, make_engine, make_session_factory
from cbt.db.writer import Writer


def test_the_writers_commits_leave_the_wal_to_the_checkpointer(tmp_path):
    url = f"sqlite:///{tmp_path / 'exam.db'}"
    write_engine = make_engine(url, poolclass=StaticPool, checkpoints=False)
    read_engine = make_engine(url, read_only=True)
    with write_engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE answers (id INTEGER PRIMARY KEY, v TEXT)")
        assert c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    with read_engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000  # the default elsewhere
    size_before = (tmp_path / "exam.db").stat().st_size
    ran, results = threading.Event(), []

    def checkpointer() -> None:
        seen = writer.batches  # every batch up to here is committed
        results.append((seen, checkpoint(read_engine)))
        ran.set()

    writer = Writer(make_session_factory(write_engine), checkpoint=checkpointer, checkpoint_every=0.05)
    for i in range(200):
        writer.run(lambda s, i=i: s.execute(text("INSERT INTO answers (v) VALUES (:v)"), {"v": f"{i}" * 200}))
    while not any(seen == writer.batches for seen, _ in results):  # one that came after the last commit
        assert ran.wait(10), "the checkpointer runs after commits"
        ran.clear()
    writer.stop()
    frames, copied = results[-1][1]
    assert frames > 0 and copied == frames, "with no reader in the way, everything committed was copied"
    assert (tmp_path / "exam.db").stat().st_size > size_before + 200 * 200, "the rows are in the database file"
    with read_engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM answers").scalar() == 200
