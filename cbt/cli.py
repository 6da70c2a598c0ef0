"""Command line: ``python -m cbt <command>``. Every command has --help and exits non-zero on failure.

Exit codes: 0 success, 1 the command failed (the message says what to do), 2 bad usage.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cbt import clock
from cbt.adapters.packfiles import load_pack
from cbt.anchors import append as append_anchor
from cbt.anchors import read as read_anchors
from cbt.config import BUNDLED_PACKS, Config
from cbt.core.assembly import assemble_parallel
from cbt.core.blueprint import PARTS
from cbt.core.errors import CbtError, Problem
from cbt.core.packs import Pack
from cbt.db import migrate, models
from cbt.db.session import make_engine, make_session_factory, transaction
from cbt.services import audit, banks, batches, papers, staff


class CommandFailed(Exception):
    """Stop the command with a message (in Chinese) and exit status 1."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except CommandFailed as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    except CbtError as exc:
        print(f"错误（{exc.code}）：{exc.message}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cbt", description="cbt 职业技能等级认定机考系统：命令行管理工具")
    sub = p.add_subparsers(title="commands", metavar="COMMAND")

    c = sub.add_parser("init", help="create or upgrade the database (CBT_DATABASE_URL)")
    c.set_defaults(run=cmd_init)

    pack = sub.add_parser("pack", help="validate, import and list question packs").add_subparsers(
        title="pack commands", metavar="ACTION"
    )
    c = pack.add_parser("validate", help="check pack folders and report every problem")
    c.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    c.add_argument("--json", action="store_true", help="print the problems as JSON")
    c.set_defaults(run=cmd_pack_validate)
    c = pack.add_parser("import", help="import pack folders atomically (nothing if any has an error)")
    c.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    c.add_argument("--json", action="store_true")
    c.set_defaults(run=cmd_pack_import)
    c = pack.add_parser("list", help="list the imported packs")
    c.add_argument("--json", action="store_true")
    c.set_defaults(run=cmd_pack_list)

    item = sub.add_parser("item", help="manage items of an imported pack").add_subparsers(
        title="item commands", metavar="ACTION"
    )
    c = item.add_parser("retire", help="keep an item out of new papers")
    c.add_argument("item_id")
    c.add_argument("--pack", required=True, help="pack code, e.g. lsa")
    c.add_argument("--reason", required=True)
    c.set_defaults(run=cmd_item_retire)

    paper = sub.add_parser("paper", help="assemble papers").add_subparsers(title="paper commands", metavar="ACTION")
    c = paper.add_parser("assemble", help="assemble one form, or parallel forms, from a blueprint")
    c.add_argument("--pack", required=True, help="a pack folder, or the code of an imported pack")
    c.add_argument("--level", required=True, type=int, choices=[1, 2, 3, 4, 5])
    c.add_argument("--part", required=True, choices=PARTS)
    c.add_argument("--seed", required=True)
    c.add_argument("--forms", type=int, default=1, help="number of parallel forms (A/B/C 卷), default 1")
    c.add_argument("--max-overlap", type=float, default=0.5, help="largest share of points two forms may share")
    c.add_argument("--store", action="store_true", help="store the forms as snapshots (imported packs only)")
    c.add_argument("--json", action="store_true", help="print the form(s) as JSON")
    c.set_defaults(run=cmd_paper_assemble)

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

    st = sub.add_parser("staff", help="exam staff accounts").add_subparsers(title="staff commands", metavar="ACTION")
    c = st.add_parser("add", help="create an account (password generated and printed unless CBT_STAFF_PASSWORD is set)")
    c.add_argument("username")
    c.add_argument("--name", required=True)
    c.add_argument("--role", required=True, choices=sorted(staff.ROLES))
    c.set_defaults(run=cmd_staff_add)
    c = st.add_parser("assign", help="assign a proctor to a room of a batch")
    c.add_argument("username")
    c.add_argument("--batch", required=True, help="batch code")
    c.add_argument("--room", required=True, help="room code, e.g. R01")
    c.set_defaults(run=cmd_staff_assign)
    c = st.add_parser(
        "reset-password", help="a new password (printed unless CBT_STAFF_PASSWORD is set); signs out everywhere"
    )
    c.add_argument("username")
    c.set_defaults(run=cmd_staff_reset_password)
    c = st.add_parser("deactivate", help="the account can no longer sign in; its open sessions end now")
    c.add_argument("username")
    c.set_defaults(run=cmd_staff_deactivate)

    aud = sub.add_parser("audit", help="the audit log").add_subparsers(title="audit commands", metavar="ACTION")
    c = aud.add_parser("verify", help="check the audit log's keyed hash chain against its anchors")
    c.set_defaults(run=cmd_audit_verify)
    c = aud.add_parser("anchor", help="append an anchor (count and head hash) to instance/audit_anchors.jsonl")
    c.set_defaults(run=cmd_audit_anchor)
    return p


# --- helpers ----------------------------------------------------------------------------------


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli"


def _session(*, require_schema: bool = True) -> Session:
    config = Config.from_env()
    engine = make_engine(config.database_url)
    if require_schema and migrate.current_revision(engine) != migrate.head_revision():
        raise CommandFailed("数据库尚未初始化或需要升级，请先运行：python -m cbt init")
    return make_session_factory(engine, config.audit_key)()


def _print_problems(path: Path, problems: list[Problem]) -> None:
    for problem in problems:
        print(f"{path}/{problem}")


def _load_all(paths: Sequence[Path], as_json: bool) -> list[Pack]:
    """Validate every pack; print every problem; fail if any pack has an error."""
    packs, results, failed = [], [], False
    for path in paths:
        pack, problems = load_pack(path)
        failed |= pack is None
        if pack is not None:
            packs.append(pack)
        results.append({"path": str(path), "ok": pack is not None, "problems": [p.as_dict() for p in problems]})
        if not as_json:
            _print_problems(path, problems)
            errors = sum(p.is_error for p in problems)
            warnings = len(problems) - errors
            status = f"{len(pack.items)} 题，{len(pack.blueprints)} 个蓝图" if pack else "不能导入"
            print(f"{path}: {errors} 个错误，{warnings} 个警告；{status}")
    if as_json:
        print(json.dumps({"packs": results}, ensure_ascii=False, indent=2))
    if failed:
        raise CommandFailed("题库有错误，未做任何更改。请按上面的提示修改后重试。")
    return packs


# --- commands ---------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    config = Config.from_env()
    engine = make_engine(config.database_url)
    migrate.upgrade(engine)
    print(f"数据库已就绪（版本 {migrate.current_revision(engine)}）：{engine.url.render_as_string(hide_password=True)}")
    return 0


def cmd_pack_validate(args: argparse.Namespace) -> int:
    _load_all(args.paths, args.json)
    return 0


def cmd_pack_import(args: argparse.Namespace) -> int:
    packs = _load_all(args.paths, args.json)
    session = _session()
    reports = [banks.import_pack(session, pack, now=clock.now(), actor=_actor()) for pack in packs]
    if args.json:
        print(json.dumps({"imported": [r.as_dict() for r in reports]}, ensure_ascii=False, indent=2))
    else:
        for r in reports:
            print(
                f"已导入题库 {r.pack}（{r.version}）：新增 {len(r.created)} 题，新版本 {len(r.new_versions)} 题，"
                f"未变 {r.unchanged} 题，停用 {len(r.retired)} 题，恢复 {len(r.reinstated)} 题"
            )
    return 0


def cmd_pack_list(args: argparse.Namespace) -> int:
    rows = banks.list_packs(_session())
    if args.json:
        print(json.dumps({"packs": rows}, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("尚未导入任何题库。导入：python -m cbt pack import question_packs/lsa")
    for r in rows:
        print(f"{r['pack']}  {r['version']}  {r['occupation']}  {r['items']} 题（停用 {r['retired']}）  {r['by_type']}")
    return 0


def cmd_item_retire(args: argparse.Namespace) -> int:
    banks.retire_item(_session(), args.pack, args.item_id, reason=args.reason, now=clock.now(), actor=_actor())
    print(f"题目 {args.item_id} 已停用，之后组卷不再抽取；已组好的试卷不受影响。")
    return 0


def cmd_paper_assemble(args: argparse.Namespace) -> int:
    path = Path(args.pack)
    if path.is_dir():
        if args.store:
            raise CommandFailed("--store 只能用于已导入的题库：请先 pack import，再用题库代码组卷")
        pack = _quiet_load(path)
        blueprint = pack.blueprint(args.level, args.part)
        if blueprint is None:
            raise CommandFailed(f"题库 {pack.code} 没有 {args.level} 级 {args.part} 的组卷蓝图")
        parallel = assemble_parallel(blueprint, pack.items, args.seed, args.forms, max_overlap=args.max_overlap)
        ids: list[int] = []
    else:
        session = _session()
        if args.store:
            ids, parallel = papers.store_forms(
                session,
                args.pack,
                args.level,
                args.part,
                args.seed,
                count=args.forms,
                max_overlap=args.max_overlap,
                now=clock.now(),
                actor=_actor(),
            )
        else:
            bank = banks.load_bank(session, args.pack)
            blueprint = bank.blueprint(args.level, args.part)
            parallel = assemble_parallel(blueprint, bank.items, args.seed, args.forms, max_overlap=args.max_overlap)
            ids = []
    if args.json:
        forms = [f.to_json() for f in parallel.forms]
        for form, form_id in zip(forms, ids, strict=False):
            form["form_id"] = form_id
        out = forms[0] if len(forms) == 1 else {"forms": forms, "parallel": parallel.report()}
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    for form in parallel.forms:
        data = form.to_json()
        print(f"{form.label} 卷：{len(form.entries)} 题，{data['total_points']} 分，平均难度 {data['mean_difficulty']}")
        print(f"  各知识领域分值：{data['totals_by_area']}")
        print(f"  各题型分值：{data['totals_by_type']}")
    if len(parallel.forms) > 1:
        print(f"重复率：{parallel.report()['overlap']}；难度差 {parallel.difficulty_spread():.3f}")
    if ids:
        print(f"已保存试卷：{ids}")
    return 0


def _quiet_load(path: Path) -> Pack:
    pack, problems = load_pack(path)
    if pack is None:
        _print_problems(path, [p for p in problems if p.is_error])
        raise CommandFailed(f"{path} 有错误，请先运行 python -m cbt pack validate {path}")
    return pack


DEMO_FILE = "demo.json"  # the last demo's printout, in the instance folder (demo passwords: demo only)


def cmd_demo(args: argparse.Namespace) -> int:
    if args.candidates < 1 or args.candidates > 20000:
        raise CommandFailed("--candidates 必须在 1 到 20000 之间")
    if args.minutes <= 0:
        raise CommandFailed("--minutes 必须大于 0")
    config = Config.from_env()
    migrate.upgrade(make_engine(config.database_url))
    now, saved = clock.now(), config.instance_path / DEMO_FILE
    with _session() as session:
        previous = _last_demo(session, saved)
        keep = args.keep and previous is not None and batches.is_open(session, previous["batch"], now)
        session.rollback()
        summary = previous if keep else _new_demo(session, args, now)
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
    actor = _actor()
    for pack in [_quiet_load(p.parent) for p in sorted(BUNDLED_PACKS.glob("*/pack.yaml"))]:
        banks.import_pack(session, pack, now=now, actor=actor)
    plan = batches.demo_plan("lsa", args.candidates, args.minutes, now, admission=args.admission)
    batch_id = batches.plan_batch(session, plan, now=now, actor=actor)
    return {
        "batch": plan.code,
        "mode": plan.mode,
        "minutes": args.minutes,
        "admission": args.admission,
        "candidates": [
            {"ticket": c.ticket, "id_number": c.id_number, "name": c.name, "level": c.level} for c in plan.candidates
        ],
        "staff": _demo_staff(session, batch_id, now, actor),
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
    with transaction(session):
        for room in session.scalars(
            select(models.Room).where(models.Room.batch_id == batch_id).order_by(models.Room.code)
        ):
            for n in (1, 2):
                username = f"demo-proctor-{room.code.lower()}-{n}"
                password = staff.demo_account(
                    session, username, f"监考员{room.code}-{n}", "proctor", now=now, actor=actor
                )
                staff.assign(session, username, room.id, now=now, actor=actor)
                out.append({"username": username, "password": password, "role": "proctor", "room": room.name})
        password = staff.demo_account(session, "demo-supervisor", "督导员", "supervisor", now=now, actor=actor)
        out.append({"username": "demo-supervisor", "password": password, "role": "supervisor"})
        password = staff.demo_account(session, "demo-admin", "考务管理员", "admin", now=now, actor=actor)
        out.append({"username": "demo-admin", "password": password, "role": "admin"})
    return out


def cmd_staff_add(args: argparse.Namespace) -> int:
    session = _session()
    with transaction(session):
        info, password = staff.create_staff(
            session,
            args.username,
            args.name,
            args.role,
            os.environ.get("CBT_STAFF_PASSWORD"),
            now=clock.now(),
            actor=_actor(),
        )
    print(f"已创建 {staff.ROLES[info.role]} {info.username}，初始密码：{password}")
    return 0


def cmd_staff_assign(args: argparse.Namespace) -> int:
    session = _session()
    room = session.scalar(
        select(models.Room).join(models.Batch).where(models.Batch.code == args.batch, models.Room.code == args.room)
    )
    if room is None:
        raise CommandFailed(f"批次 {args.batch} 中没有考场 {args.room}")
    with transaction(session):
        staff.assign(session, args.username, room.id, now=clock.now(), actor=_actor())
    print(f"已将 {args.username} 分配到 {room.name}")
    return 0


def cmd_staff_reset_password(args: argparse.Namespace) -> int:
    session = _session()
    with transaction(session):
        given = os.environ.get("CBT_STAFF_PASSWORD")
        password = staff.reset_password(session, args.username, given, now=clock.now(), actor=_actor())
    print(f"已重置 {args.username} 的密码，原有登录已全部失效" + ("。" if given else f"。新密码：{password}"))
    return 0


def cmd_staff_deactivate(args: argparse.Namespace) -> int:
    session = _session()
    with transaction(session):
        staff.deactivate(session, args.username, now=clock.now(), actor=_actor())
    print(f"已停用 {args.username}，其登录已全部失效")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    instance = Config.from_env().instance_path
    anchors = read_anchors(instance)
    with _session() as session:
        finding = audit.verify_chain(session, anchors)
    if finding is not None:
        raise CommandFailed(finding.message)
    print(f"审计日志完整：哈希链（带密钥）校验通过，与 {len(anchors)} 个锚点一致。")
    return 0


def cmd_audit_anchor(args: argparse.Namespace) -> int:
    with _session() as session:
        point = audit.anchor(session, clock.now())
    append_anchor(Config.from_env().instance_path, point, "cli")
    print(f"已记录锚点：共 {point.count} 条审计记录，最新哈希 {point.head[:16]}…")
    return 0
