"""/healthz: whether this process can serve an exam: the database takes a real write (through the
writer, committed as an answer is), and the instance folder has disk left. ``degraded`` names why."""

from __future__ import annotations

import os
import shutil
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from cbt.core.errors import CbtError
from cbt.db.writer import Writer
from cbt.services import health

PROCESS = f"{socket.gethostname()}:{os.getpid()}"


def cause(exc: BaseException) -> str:
    """What a failed write means, in words an operator can act on."""
    text = str(getattr(exc, "orig", exc) or exc).lower()
    if "readonly" in text or "read-only" in text or "read only" in text:
        return "数据库只读：请检查数据库文件及其所在目录的写权限（或磁盘是否以只读方式挂载）"
    if "no such table" in text or "does not exist" in text:
        return "数据库尚未初始化：请运行 python -m cbt init"
    if "disk" in text and "full" in text:
        return "磁盘已满：数据库无法写入"
    if "locked" in text:
        return "数据库被其他程序锁定"
    return f"数据库无法写入：{getattr(exc, 'orig', exc)}"


def check(writer: Writer, instance: Path, min_free_mb: int, now: datetime) -> dict[str, Any]:
    reasons = []
    try:
        writer.run(health.heartbeat, PROCESS, now)
        database = "writable"
    except (SQLAlchemyError, CbtError) as exc:
        database = "not_writable"
        reasons.append(cause(exc) if isinstance(exc, SQLAlchemyError) else exc.message)
    free_mb = shutil.disk_usage(instance).free // (1024 * 1024)
    if free_mb < min_free_mb:
        reasons.append(f"磁盘剩余空间不足：{free_mb} MB（低于 {min_free_mb} MB）")
    return {
        "status": "degraded" if reasons else "ok",
        "reasons": reasons,
        "database": database,
        "disk_free_mb": free_mb,
        "time": now.isoformat(),
    }
