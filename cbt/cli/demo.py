"""``demo``: a demo batch open now, with its accounts (what ``make run`` serves)."""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cbt import clock
from cbt.cli.common import CommandFailed, actor, open_session
from cbt.cli.packs import quiet_load
from cbt.config import BUNDLED_PACKS, Config
from cbt.db import migrate, models
from cbt.db.session import make_engine, transaction
from cbt.services import banks, batches, staff

DEMO_FILE = "demo.json"  # the last demo's printout, in the instance folder (demo passwords: demo only)


def register(sub: Any) -> None:
    c = sub.add_parser("demo", help="init, load the bundled packs and create a demo batch open now; print accounts")
    c.add_argument("--candidates", type=int, default=6, help="number of demo candidates (default 6)")
    c.add_argument("--minutes", type=float, default=90, help="minutes per part; under 90 makes a practice batch")
    c.add_argument("--admission", action="store_true", help="candidates need a proctor's admission before starting")
    c.add_argument("--json", action="store_true", help="print the accounts as JSON")
    c.add_argument(
        "--keep",
        action="store_true",
        help="keep the last demo batch and its accounts while its sessions are open (make run uses this)",
    )
    c.set_defaults(run=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    if args.candidates < 1 or args.candidates > 20000:
        raise CommandFailed("--candidates 必须在 1 到 20000 之间")
    if args.minutes <= 0:
        raise CommandFailed("--minutes 必须大于 0")
    config = Config.from_env()
    migrate.upgrade(make_engine(config.database_url))
    now, saved = clock.now(), config.instance_path / DEMO_FILE
    with open_session() as session:
        previous = _last_demo(session, saved)
        keep = args.keep and previous is not None and batches.is_open(session, previous["batch"], now)
        session.rollback()
        summary = previous if keep and previous is not None else _new_demo(session, args, now)
    if keep:
        note = f"沿用上次创建的演示批次 {summary['batch']}，账号与密码不变。"
    else:
        note = f"上次的演示批次 {previous['batch']} 已结束，已新建演示批次。" if args.keep and previous else ""
        fd = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(summary, f, ensure_ascii=False, indent=2)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        _print_demo(summary, note)
    return 0


def _last_demo(session: Session, saved: Path) -> dict | None:
    """The last demo's printout, if its batch is still in this database."""
    try:
        summary = json.loads(saved.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    exists = session.scalar(select(models.Batch.id).where(models.Batch.code == summary.get("batch")))
    return summary if exists else None


def _new_demo(session: Session, args: argparse.Namespace, now: datetime) -> dict:
    """The bundled packs imported, a demo batch planned and its staff made: one unit of work."""
    by = actor()
    with transaction(session):
        for pack in [quiet_load(p.parent) for p in sorted(BUNDLED_PACKS.glob("*/pack.yaml"))]:
            banks.import_pack(session, pack, now=now, actor=by)
        plan = batches.demo_plan("lsa", args.candidates, args.minutes, now, admission=args.admission)
        batch_id = batches.plan_batch(session, plan, now=now, actor=by)
        accounts = _demo_staff(session, batch_id, now, by)
    return {
        "batch": plan.code,
        "mode": plan.mode,
        "minutes": args.minutes,
        "admission": args.admission,
        "candidates": [
            {"ticket": c.ticket, "id_number": c.id_number, "name": c.name, "level": c.level} for c in plan.candidates
        ],
        "staff": accounts,
    }


def _print_demo(summary: dict, note: str) -> None:
    accounts, mode = summary["candidates"], "认定考试" if summary["mode"] == "certification" else "模拟考试"
    if note:
        print(note)
    print(f"演示批次 {summary['batch']}（{mode}，每部分 {summary['minutes']:g} 分钟），理论知识与技能考核均已开考。")
    print("考生账号（准考证号 / 身份证号 / 姓名 / 等级）：")
    for a in accounts[:20]:
        print(f"  {a['ticket']}  {a['id_number']}  {a['name']}  {a['level']}级")
    if len(accounts) > 20:
        print(f"  ……共 {len(accounts)} 名考生（--json 输出全部）")
    print("考务人员（用户名 / 密码 / 角色 / 考场），登录：/staff/login")
    for a in summary["staff"]:
        print(f"  {a['username']}  {a['password']}  {a['role']}  {a.get('room', '全部考场')}")
    if not summary.get("admission"):
        print("本演示批次考生无需监考员允许入场即可开考（--admission 可改为需要允许入场）。")


def _demo_staff(session: Session, batch_id: int, now: datetime, actor: str) -> list[dict[str, str]]:
    """Two proctors per room (the standard's minimum), a supervisor and an exam administrator, with
    fresh passwords."""
    out = []
    for room in session.scalars(select(models.Room).where(models.Room.batch_id == batch_id).order_by(models.Room.code)):
        for n in (1, 2):
            username = f"demo-proctor-{room.code.lower()}-{n}"
            password = staff.demo_account(session, username, f"监考员{room.code}-{n}", "proctor", now=now, actor=actor)
            staff.assign(session, username, room.id, now=now, actor=actor)
            out.append({"username": username, "password": password, "role": "proctor", "room": room.name})
    password = staff.demo_account(session, "demo-supervisor", "督导员", "supervisor", now=now, actor=actor)
    out.append({"username": "demo-supervisor", "password": password, "role": "supervisor"})
    password = staff.demo_account(session, "demo-admin", "考务管理员", "admin", now=now, actor=actor)
    out.append({"username": "demo-admin", "password": password, "role": "admin"})
    return out
