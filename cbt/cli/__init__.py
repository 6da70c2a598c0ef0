"""Command line: ``python -m cbt <command>``, one module per command group. Every command has --help
and exits non-zero on failure.

Exit codes: 0 success, 1 the command failed (the message says what to do), 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cbt.cli import audit, constants, demo, packs, staff
from cbt.cli.common import CommandFailed
from cbt.core.errors import CbtError


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
    for group in (packs, demo, staff, audit, constants):
        group.register(sub)
    return p
