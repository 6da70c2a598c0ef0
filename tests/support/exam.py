"""An exam-day fixture: a migrated database with the bundled pack, a planned batch and a controllable clock."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from cbt.db import migrate
from cbt.db.session import make_engine, make_session_factory, transaction
from cbt.services import banks, batches

T0 = datetime(2026, 11, 28, 8, 30, tzinfo=UTC)


class FakeClock:
    """The server clock under test control: tests move time instead of sleeping."""

    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class ExamDay:
    url: str
    plan: batches.BatchPlan
    clock: FakeClock

    def account(self, level: int) -> batches.CandidateSpec:
        return next(c for c in self.plan.candidates if c.level == level)


AUDIT_KEY = "test-audit-key"  # the tests' audit log key (apps under test get the same: CBT_AUDIT_KEY)


def plan_exam_day(url: str, lsa_pack, *, candidates: int = 6, minutes: float = 90, opens_in: float = 0) -> ExamDay:
    engine = make_engine(url)
    migrate.upgrade(engine)
    clock = FakeClock()
    with make_session_factory(engine, AUDIT_KEY)() as session, transaction(session):
        banks.import_pack(session, lsa_pack, now=clock(), actor="test")
        plan = batches.demo_plan("lsa", candidates, minutes, clock())
        start = clock() + timedelta(seconds=opens_in)
        plan = replace(plan, starts={"theory": start, "skill": start}, show_scores=False)
        batches.plan_batch(session, plan, now=clock(), actor="test")
    engine.dispose()
    return ExamDay(url, plan, clock)
