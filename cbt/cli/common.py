"""What every command shares: its failure, its actor, its database session (the unit of work is
``cbt.db.session.transaction`` around each command's changes)."""

from __future__ import annotations

import getpass
from pathlib import Path

from sqlalchemy.orm import Session

from cbt.config import Config
from cbt.core.errors import Problem
from cbt.db import migrate
from cbt.db.session import make_engine, make_session_factory


class CommandFailed(Exception):
    """Stop the command with a message (in Chinese) and exit status 1."""


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli"


def open_session(*, require_schema: bool = True) -> Session:
    config = Config.from_env()
    engine = make_engine(config.database_url)
    if require_schema and migrate.current_revision(engine) != migrate.head_revision():
        raise CommandFailed("数据库尚未初始化或需要升级，请先运行：python -m cbt init")
    return make_session_factory(engine, config.audit_key)()


def print_problems(path: Path, problems: list[Problem]) -> None:
    for problem in problems:
        print(f"{path}/{problem}")
