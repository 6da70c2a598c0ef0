"""Planning an exam day: a batch, its sessions, rooms and candidates, with papers assembled in advance.

Papers are assembled and stored when the batch is planned (two parallel forms per level and part,
handed out alternately), and each candidate's attempt is created with its own item and option
order, so nothing is assembled at the moment everyone clicks 开始考试.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cbt.core.assembly import candidate_order
from cbt.core.blueprint import MIN_CERTIFICATION_MINUTES, PARTS
from cbt.core.candidates import make_id_number, normalise_id_number, valid_id_number, valid_ticket
from cbt.core.errors import Conflict, InvalidInput
from cbt.db import models
from cbt.services import audit
from cbt.services.banks import load_bank
from cbt.services.papers import load_form, store_forms

MODES = ("certification", "practice")


@dataclass(frozen=True)
class CandidateSpec:
    ticket: str
    id_number: str
    name: str
    level: int
    room: str
    seat: str
    photo: bytes | None = None
    photo_type: str | None = None


@dataclass(frozen=True)
class BatchPlan:
    code: str
    name: str
    mode: str
    pack: str
    starts: dict[str, datetime]  # part -> scheduled start
    rooms: dict[str, str]  # room code -> name
    candidates: list[CandidateSpec]
    duration_seconds: int | None = None  # practice only; certification uses the blueprint
    show_scores: bool = False
    requires_admission: bool | None = None  # default: certification batches need a proctor's admission
    seed: str = field(default="")


def plan_batch(session: Session, plan: BatchPlan, *, now: datetime, actor: str) -> int:
    """Create the batch with everything it needs (in the caller's transaction). Returns the batch id."""
    if plan.mode not in MODES:
        raise InvalidInput(f"考试模式 {plan.mode!r} 无效，应为 certification 或 practice", code="bad_mode")
    if session.scalar(select(models.Batch.id).where(models.Batch.code == plan.code)):
        raise Conflict(f"批次代码 {plan.code} 已存在", code="batch_exists")
    bank = load_bank(session, plan.pack)
    _check_candidates(session, plan)
    batch = models.Batch(
        code=plan.code,
        name=plan.name,
        mode=plan.mode,
        pack_id=bank.pack_id,
        show_scores=plan.show_scores,
        created_at=now,
        created_by=actor,
    )
    session.add(batch)
    session.flush()
    rooms = {code: models.Room(batch_id=batch.id, code=code, name=name) for code, name in plan.rooms.items()}
    session.add_all(rooms.values())
    session.flush()
    levels = sorted({c.level for c in plan.candidates})
    sessions: dict[str, models.ExamSession] = {}
    forms: dict[tuple[str, int], list[int]] = {}
    for part, starts_at in plan.starts.items():
        if part not in PARTS:
            raise InvalidInput(f"考试部分 {part!r} 无效", code="bad_part")
        durations = {bank.blueprint(level, part).duration_minutes * 60 for level in levels}
        duration = plan.duration_seconds if plan.mode == "practice" and plan.duration_seconds else max(durations)
        if plan.mode == "certification" and duration < MIN_CERTIFICATION_MINUTES * 60:
            raise InvalidInput("认定考试每部分时长不得少于 90 分钟", code="duration_too_short")
        if duration <= 0:
            raise InvalidInput("考试时长必须大于 0", code="bad_duration")
        admission = plan.mode == "certification" if plan.requires_admission is None else plan.requires_admission
        exam_session = models.ExamSession(
            batch_id=batch.id, part=part, starts_at=starts_at, duration_seconds=duration, requires_admission=admission
        )
        session.add(exam_session)
        sessions[part] = exam_session
        for level in levels:
            forms[(part, level)], _ = store_forms(
                session, plan.pack, level, part, f"{plan.seed or plan.code}", now=now, actor=actor
            )
    session.flush()
    loaded = {form_id: load_form(session, form_id) for ids in forms.values() for form_id in ids}
    for n, spec in enumerate(plan.candidates):
        candidate = models.Candidate(
            batch_id=batch.id,
            room_id=rooms[spec.room].id,
            ticket=spec.ticket,
            id_number=normalise_id_number(spec.id_number),
            name=spec.name,
            level=spec.level,
            seat=spec.seat,
            photo=spec.photo,
            photo_type=spec.photo_type,
        )
        session.add(candidate)
        session.flush()
        for part, exam_session in sessions.items():
            form_ids = forms[(part, spec.level)]
            form_id = form_ids[n % len(form_ids)]
            order = candidate_order(loaded[form_id], f"{plan.code}/{spec.ticket}/{part}")
            session.add(
                models.Attempt(
                    candidate_id=candidate.id,
                    session_id=exam_session.id,
                    form_id=form_id,
                    order=[
                        {"id": d.id, "questions": [{"id": q.id, "options": list(q.options)} for q in d.questions]}
                        for d in order
                    ],
                    duration_seconds=exam_session.duration_seconds,
                    extension_seconds=0,
                )
            )
    audit.record(
        session,
        at=now,
        actor=actor,
        action="batch.plan",
        subject=f"batch:{plan.code}",
        detail={
            "mode": plan.mode,
            "pack": plan.pack,
            "candidates": len(plan.candidates),
            "rooms": list(plan.rooms),
            "sessions": {p: s.starts_at.isoformat() for p, s in sessions.items()},
            "forms": {f"{p}/{lv}": ids for (p, lv), ids in forms.items()},
        },
    )
    session.flush()
    return batch.id


def _check_candidates(session: Session, plan: BatchPlan) -> None:
    problems = []
    tickets = set()
    for spec in plan.candidates:
        if not valid_ticket(spec.ticket):
            problems.append(f"准考证号 {spec.ticket!r} 格式不正确")
        if spec.ticket in tickets:
            problems.append(f"准考证号 {spec.ticket} 重复")
        tickets.add(spec.ticket)
        if not valid_id_number(spec.id_number):
            problems.append(f"考生 {spec.name} 的身份证号码不正确")
        if spec.room not in plan.rooms:
            problems.append(f"考生 {spec.name} 的考场 {spec.room} 不存在")
    taken = session.scalars(select(models.Candidate.ticket).where(models.Candidate.ticket.in_(tickets))).all()
    problems += [f"准考证号 {t} 已被其他批次使用" for t in taken]
    if problems:
        raise InvalidInput("；".join(problems[:20]), code="bad_candidates", detail=problems)


# --- the demo batch -------------------------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
]
ROOM_SIZE = 30


def is_open(session: Session, code: str, now: datetime) -> bool:
    """Whether every session of batch ``code`` can still be started (none is over yet)."""
    sessions = session.scalars(select(models.ExamSession).join(models.Batch).where(models.Batch.code == code)).all()
    return bool(sessions) and all(now < s.starts_at + timedelta(seconds=s.duration_seconds) for s in sessions)


def demo_plan(pack: str, candidates: int, minutes: float, now: datetime, *, admission: bool = False) -> BatchPlan:
    """A fresh demo batch: both sessions open now; levels 3, 4, 5 in turn; 30 candidates a room."""
    stamp = now.strftime("%y%m%d%H%M%S") + f"{now.microsecond // 1000:03d}"
    rooms = {f"R{r + 1:02d}": f"第{r + 1:02d}考场" for r in range(max(1, math.ceil(candidates / ROOM_SIZE)))}
    specs = []
    for i in range(candidates):
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES) + i) % len(GIVEN)]
        born = date(1975, 1, 1) + timedelta(days=(i * 397) % 12000)
        specs.append(
            CandidateSpec(
                ticket=f"{stamp}{i + 1:04d}",
                id_number=make_id_number("110101", born, i),
                name=name,
                level=(3, 4, 5)[i % 3],
                room=f"R{i // ROOM_SIZE + 1:02d}",
                seat=f"{i % ROOM_SIZE + 1:02d}",
                photo=_avatar(name),
                photo_type="image/svg+xml",
            )
        )
    certification = minutes >= MIN_CERTIFICATION_MINUTES
    return BatchPlan(
        code=f"DEMO-{stamp}",
        name=f"演示批次 {now:%Y-%m-%d %H:%M:%S}",
        mode="certification" if certification else "practice",
        pack=pack,
        starts={"theory": now, "skill": now},
        rooms=rooms,
        candidates=specs,
        duration_seconds=None if certification else max(1, round(minutes * 60)),
        show_scores=not certification,
        requires_admission=admission,
    )


def _avatar(name: str) -> bytes:
    """A placeholder photo: the candidate's surname on a tinted square (demo data only)."""
    hue = sum(map(ord, name)) % 360
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="160" viewBox="0 0 120 160">'
        f'<rect width="120" height="160" fill="hsl({hue},45%,80%)"/>'
        f'<text x="60" y="100" font-size="56" text-anchor="middle" fill="#333">{name[0]}</text></svg>'
    ).encode()
