"""``staff``: exam staff accounts and their rooms."""

from __future__ import annotations

import argparse
import os
from typing import Any

from sqlalchemy import select

from cbt import clock
from cbt.cli.common import CommandFailed, actor, open_session
from cbt.db import models
from cbt.db.session import transaction
from cbt.services import staff


def register(sub: Any) -> None:
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


def cmd_staff_add(args: argparse.Namespace) -> int:
    session = open_session()
    with transaction(session):
        info, password = staff.create_staff(
            session,
            args.username,
            args.name,
            args.role,
            os.environ.get("CBT_STAFF_PASSWORD"),
            now=clock.now(),
            actor=actor(),
        )
    print(f"已创建 {staff.ROLES[info.role]} {info.username}，初始密码：{password}")
    return 0


def cmd_staff_assign(args: argparse.Namespace) -> int:
    session = open_session()
    room = session.scalar(
        select(models.Room).join(models.Batch).where(models.Batch.code == args.batch, models.Room.code == args.room)
    )
    if room is None:
        raise CommandFailed(f"批次 {args.batch} 中没有考场 {args.room}")
    with transaction(session):
        staff.assign(session, args.username, room.id, now=clock.now(), actor=actor())
    print(f"已将 {args.username} 分配到 {room.name}")
    return 0


def cmd_staff_reset_password(args: argparse.Namespace) -> int:
    session = open_session()
    with transaction(session):
        given = os.environ.get("CBT_STAFF_PASSWORD")
        password = staff.reset_password(session, args.username, given, now=clock.now(), actor=actor())
    print(f"已重置 {args.username} 的密码，原有登录已全部失效" + ("。" if given else f"。新密码：{password}"))
    return 0


def cmd_staff_deactivate(args: argparse.Namespace) -> int:
    session = open_session()
    with transaction(session):
        staff.deactivate(session, args.username, now=clock.now(), actor=actor())
    print(f"已停用 {args.username}，其登录已全部失效")
    return 0
