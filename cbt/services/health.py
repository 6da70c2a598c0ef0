"""The server's own health: a real write, as every answer a candidate is given depends on one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from cbt.db.models import Heartbeat


def heartbeat(session: Session, name: str, now: datetime) -> None:
    """Record that process ``name`` wrote at ``now`` (run in the writer, committed like an answer)."""
    done = session.execute(update(Heartbeat).where(Heartbeat.name == name).values(at=now))
    if not done.rowcount:  # type: ignore[attr-defined]
        session.execute(insert(Heartbeat).values(name=name, at=now))
