"""``init``, ``pack``, ``item`` and ``paper``: the database, question packs, their items, papers."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cbt import clock
from cbt.adapters.packfiles import load_pack
from cbt.cli.common import CommandFailed, actor, open_session, print_problems
from cbt.config import Config
from cbt.core.assembly import assemble_parallel
from cbt.core.blueprint import PARTS
from cbt.core.packs import Pack
from cbt.db import migrate
from cbt.db.session import make_engine, transaction
from cbt.services import banks, papers


def register(sub: Any) -> None:
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


def load_all(paths: Sequence[Path], as_json: bool) -> list[Pack]:
    """Validate every pack; print every problem; fail if any pack has an error."""
    packs, results, failed = [], [], False
    for path in paths:
        pack, problems = load_pack(path)
        failed |= pack is None
        if pack is not None:
            packs.append(pack)
        results.append({"path": str(path), "ok": pack is not None, "problems": [p.as_dict() for p in problems]})
        if not as_json:
            print_problems(path, problems)
            errors = sum(p.is_error for p in problems)
            warnings = len(problems) - errors
            status = f"{len(pack.items)} 题，{len(pack.blueprints)} 个蓝图" if pack else "不能导入"
            print(f"{path}: {errors} 个错误，{warnings} 个警告；{status}")
    if as_json:
        print(json.dumps({"packs": results}, ensure_ascii=False, indent=2))
    if failed:
        raise CommandFailed("题库有错误，未做任何更改。请按上面的提示修改后重试。")
    return packs


def quiet_load(path: Path) -> Pack:
    pack, problems = load_pack(path)
    if pack is None:
        print_problems(path, [p for p in problems if p.is_error])
        raise CommandFailed(f"{path} 有错误，请先运行 python -m cbt pack validate {path}")
    return pack


def cmd_init(args: argparse.Namespace) -> int:
    config = Config.from_env()
    engine = make_engine(config.database_url)
    migrate.upgrade(engine)
    print(f"数据库已就绪（版本 {migrate.current_revision(engine)}）：{engine.url.render_as_string(hide_password=True)}")
    return 0


def cmd_pack_validate(args: argparse.Namespace) -> int:
    load_all(args.paths, args.json)
    return 0


def cmd_pack_import(args: argparse.Namespace) -> int:
    packs = load_all(args.paths, args.json)
    session = open_session()
    with transaction(session):  # every pack or none
        reports = [banks.import_pack(session, pack, now=clock.now(), actor=actor()) for pack in packs]
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
    rows = banks.list_packs(open_session())
    if args.json:
        print(json.dumps({"packs": rows}, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("尚未导入任何题库。导入：python -m cbt pack import question_packs/lsa")
    for r in rows:
        print(f"{r['pack']}  {r['version']}  {r['occupation']}  {r['items']} 题（停用 {r['retired']}）  {r['by_type']}")
    return 0


def cmd_item_retire(args: argparse.Namespace) -> int:
    session = open_session()
    with transaction(session):
        banks.retire_item(session, args.pack, args.item_id, reason=args.reason, now=clock.now(), actor=actor())
    print(f"题目 {args.item_id} 已停用，之后组卷不再抽取；已组好的试卷不受影响。")
    return 0


def cmd_paper_assemble(args: argparse.Namespace) -> int:
    path = Path(args.pack)
    if path.is_dir():
        if args.store:
            raise CommandFailed("--store 只能用于已导入的题库：请先 pack import，再用题库代码组卷")
        pack = quiet_load(path)
        blueprint = pack.blueprint(args.level, args.part)
        if blueprint is None:
            raise CommandFailed(f"题库 {pack.code} 没有 {args.level} 级 {args.part} 的组卷蓝图")
        parallel = assemble_parallel(blueprint, pack.items, args.seed, args.forms, max_overlap=args.max_overlap)
        ids: list[int] = []
    else:
        session = open_session()
        if args.store:
            with transaction(session):
                ids, parallel = papers.store_forms(
                    session,
                    args.pack,
                    args.level,
                    args.part,
                    args.seed,
                    count=args.forms,
                    max_overlap=args.max_overlap,
                    now=clock.now(),
                    actor=actor(),
                )
        else:
            bank = banks.load_bank(session, args.pack)
            blueprint = bank.blueprint(args.level, args.part)
            parallel = assemble_parallel(blueprint, bank.items, args.seed, args.forms, max_overlap=args.max_overlap)
            ids = []
    if args.json:
        forms = [f.to_json() for f in parallel.forms]
        for data, form_id in zip(forms, ids, strict=False):
            data["form_id"] = form_id
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
