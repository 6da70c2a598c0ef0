"""Signed, expiring tokens for Socket.IO connections (the only module that imports itsdangerous)."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from cbt.core.errors import Unauthorized

SOCKET_TOKEN_SECONDS = 12 * 3600


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="cbt.socket")


def issue(secret: str, kind: str, subject: int, **extra: Any) -> str:
    """A token naming who connects: ``kind`` is 'candidate' or 'staff', ``subject`` their id."""
    return _serializer(secret).dumps({"kind": kind, "sub": subject, **extra})


def verify(secret: str, token: object, kind: str, max_age: int = SOCKET_TOKEN_SECONDS) -> dict[str, Any]:
    if not isinstance(token, str):
        raise Unauthorized("缺少连接凭据", code="no_token")
    try:
        data = _serializer(secret).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise Unauthorized("连接凭据已过期，请刷新页面", code="token_expired") from exc
    except BadSignature as exc:
        raise Unauthorized("连接凭据无效", code="bad_token") from exc
    if not isinstance(data, dict) or data.get("kind") != kind:
        raise Unauthorized("连接凭据无效", code="bad_token")
    return data
