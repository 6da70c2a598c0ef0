"""cbt/realtime/websocket.py replaces private parts of python-engineio: on any other version, or
with a replaced part missing, the server refuses to start instead of losing the live channel."""

from __future__ import annotations

import pytest

from cbt.realtime import websocket


class Engine:
    _async = {"websocket": object()}  # noqa: RUF012


def test_the_pinned_engineio_is_accepted():
    websocket.check_engineio(websocket.ENGINEIO_VERSION, Engine())


def test_another_engineio_version_refuses_to_start():
    with pytest.raises(RuntimeError, match="replaces private parts of python-engineio"):
        websocket.check_engineio("4.99.0", Engine())


def test_a_missing_part_refuses_to_start(monkeypatch):
    monkeypatch.delattr(websocket.Socket, "schedule_ping")
    with pytest.raises(RuntimeError, match="schedule_ping"):
        websocket.check_engineio(websocket.ENGINEIO_VERSION, Engine())
