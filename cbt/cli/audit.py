"""``audit``: verify the audit log's keyed hash chain; anchor it."""

from __future__ import annotations

import argparse
from typing import Any

from cbt import clock
from cbt.anchors import append as append_anchor
from cbt.anchors import read as read_anchors
from cbt.cli.common import CommandFailed, open_session
from cbt.config import Config
from cbt.services import audit


def register(sub: Any) -> None:
    aud = sub.add_parser("audit", help="the audit log").add_subparsers(title="audit commands", metavar="ACTION")
    c = aud.add_parser("verify", help="check the audit log's keyed hash chain against its anchors")
    c.set_defaults(run=cmd_audit_verify)
    c = aud.add_parser("anchor", help="append an anchor (count and head hash) to instance/audit_anchors.jsonl")
    c.set_defaults(run=cmd_audit_anchor)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    instance = Config.from_env().instance_path
    anchors = read_anchors(instance)
    with open_session() as session:
        finding = audit.verify_chain(session, anchors)
    if finding is not None:
        raise CommandFailed(finding.message)
    print(f"审计日志完整：哈希链（带密钥）校验通过，与 {len(anchors)} 个锚点一致。")
    return 0


def cmd_audit_anchor(args: argparse.Namespace) -> int:
    with open_session() as session:
        point = audit.anchor(session, clock.now())
    append_anchor(Config.from_env().instance_path, point, "cli")
    print(f"已记录锚点：共 {point.count} 条审计记录，最新哈希 {point.head[:16]}…")
    return 0
