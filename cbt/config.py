"""Configuration, read from the environment when the app or CLI starts (never at import).

- ``CBT_DATABASE_URL``: SQLAlchemy URL; default a SQLite file ``instance/cbt.db``.
- ``CBT_SECRET_KEY``: signing key; if unset, generated once and kept in ``instance/secret_key``.
- ``CBT_AUDIT_KEY``: the audit log's HMAC key; if unset, generated once and kept in ``instance/audit_key``
  (outside the database: whoever can rewrite the database cannot forge the chain without it).
- ``CBT_MESSAGE_QUEUE``: e.g. ``redis://localhost:6379/0`` to share Socket.IO events across processes.
- ``CBT_INSTANCE_PATH``: where the instance folder lives (default: ``instance/`` beside the package).
- ``CBT_TRUSTED_PROXIES``: how many reverse proxies stand in front of the server (default 0); their
  ``X-Forwarded-For``/``-Proto``/``-Host`` are believed, so each client is known by its own address.
- ``CBT_SECURE_COOKIES``: ``1`` behind TLS: the session cookie is sent over HTTPS only.
- ``CBT_ALLOWED_ORIGINS``: comma-separated origins the live channel accepts besides the server's own.
- ``CBT_MIN_FREE_DISK_MB``: below this much free disk in the instance folder /healthz says degraded (500).
- ``CBT_TIMEZONE``: the centre's time zone, in which times are shown (default ``Asia/Shanghai``; stored in UTC).
- ``CBT_SIGNAL_THRESHOLDS``: JSON, seconds a candidate must be away before a page signal becomes an
  incident, e.g. ``{"tab_hidden": 2, "window_blur": 5}`` (the default).
"""

from __future__ import annotations

import json
import os
import secrets
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_PACKS = PROJECT_ROOT / "question_packs"


@dataclass(frozen=True)
class Config:
    database_url: str
    secret_key: str
    audit_key: str
    message_queue: str | None
    instance_path: Path
    testing: bool = False
    background: bool = True  # run the overdue-attempt sweeper in this process
    signal_thresholds: dict[str, float] | None = None
    ping: tuple[int, int] = (25, 20)  # live channel: seconds between pings, seconds to wait for the answer
    trusted_proxies: int = 0  # reverse proxies in front whose X-Forwarded-* headers are believed
    secure_cookies: bool = False  # the session cookie only over HTTPS (behind a TLS proxy)
    allowed_origins: tuple[str, ...] = ()  # origins the live channel accepts besides the server's own
    min_free_disk_mb: int = 500  # /healthz says degraded below this
    timezone: str = "Asia/Shanghai"  # the centre's zone: times are shown in it (stored in UTC)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Config:
        env = os.environ if environ is None else environ
        instance = Path(env.get("CBT_INSTANCE_PATH") or PROJECT_ROOT / "instance")
        instance.mkdir(parents=True, exist_ok=True)
        values: dict[str, object] = {
            "database_url": env.get("CBT_DATABASE_URL") or f"sqlite:///{instance / 'cbt.db'}",
            "secret_key": env.get("CBT_SECRET_KEY") or _instance_secret(instance),
            "audit_key": env.get("CBT_AUDIT_KEY") or _instance_secret(instance, "audit_key"),
            "message_queue": env.get("CBT_MESSAGE_QUEUE") or None,
            "instance_path": instance,
            "signal_thresholds": _thresholds(env.get("CBT_SIGNAL_THRESHOLDS")),
            "ping": (_seconds(env, "CBT_PING_INTERVAL", 25), _seconds(env, "CBT_PING_TIMEOUT", 20)),
            "trusted_proxies": _count(env, "CBT_TRUSTED_PROXIES"),
            "secure_cookies": _flag(env, "CBT_SECURE_COOKIES"),
            "allowed_origins": tuple(o.strip() for o in env.get("CBT_ALLOWED_ORIGINS", "").split(",") if o.strip()),
            "min_free_disk_mb": int(env.get("CBT_MIN_FREE_DISK_MB") or 500),
            "timezone": _timezone(env.get("CBT_TIMEZONE") or "Asia/Shanghai"),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def _timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"CBT_TIMEZONE {name!r} is not a time zone (e.g. Asia/Shanghai)") from exc
    return name


def _thresholds(raw: str | None) -> dict[str, float] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"CBT_SIGNAL_THRESHOLDS is not JSON: {exc}") from exc
    if not isinstance(value, dict) or not all(isinstance(v, (int, float)) and v >= 0 for v in value.values()):
        raise ValueError('CBT_SIGNAL_THRESHOLDS must map signal names to seconds, e.g. {"tab_hidden": 2}')
    return {str(k): float(v) for k, v in value.items()}


def _seconds(env: Mapping[str, str], name: str, default: int) -> int:
    """Whole seconds (engine.io tells the pages its ping interval in whole seconds)."""
    raw = env.get(name)
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 3600:
        raise ValueError(f"{name} must be whole seconds from 1 to 3600, not {raw!r}")
    return int(raw)


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw not in ("", "0", "1", "true", "false", "yes", "no"):
        raise ValueError(f"{name} must be 1 or 0, not {raw!r}")
    return raw in ("1", "true", "yes")


def _count(env: Mapping[str, str], name: str) -> int:
    raw = env.get(name)
    if not raw:
        return 0
    if not raw.isdigit() or int(raw) > 5:
        raise ValueError(f"{name} must be the number of reverse proxies in front, 0 to 5, not {raw!r}")
    return int(raw)


def _instance_secret(instance: Path, name: str = "secret_key") -> str:
    """A random key generated on first use and kept (mode 600) in the instance folder."""
    path = instance / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()
