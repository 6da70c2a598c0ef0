"""The live channel's writes (cbt/realtime/websocket.py) on real sockets under gevent: a send never
waits for the page, what the socket cannot take yet follows in order, and a page that is gone costs
the sender nothing."""

from __future__ import annotations

import base64
import os
import socket
import struct

import pytest

gevent = pytest.importorskip("gevent")
from gevent import socket as gsocket  # noqa: E402

from cbt.realtime.websocket import CLOSE, TEXT, WebSocket  # noqa: E402


def page_and_server():
    server_side, page = gsocket.socketpair()
    server_side.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # small buffers: the socket fills
    page.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    environ = {
        "gunicorn.socket": server_side,
        "HTTP_SEC_WEBSOCKET_KEY": base64.b64encode(os.urandom(16)).decode(),
        "HTTP_SEC_WEBSOCKET_VERSION": "13",
    }
    return environ, page


def read_frames(page) -> list[tuple[int, bytes]]:
    data = b""
    while chunk := page.recv(65536):
        data += chunk
    data = data.split(b"\r\n\r\n", 1)[1]  # after the handshake's answer
    frames = []
    while data:
        opcode, n, data = data[0] & 0x0F, data[1] & 0x7F, data[2:]
        if n == 126:
            (n,), data = struct.unpack("!H", data[:2]), data[2:]
        frames.append((opcode, data[:n]))
        data = data[n:]
    return frames


def test_sends_never_wait_for_a_page_that_is_not_reading():
    environ, page = page_and_server()
    messages = [f"{i:05d} ".encode() + b"x" * 120 for i in range(3000)]  # 380 KB: far more than the buffers

    def handler(ws: WebSocket) -> None:
        for m in messages:
            ws.send(m.decode())

    ws = WebSocket(handler, None)
    sender = gevent.spawn(ws, environ, lambda *a: None)
    sender.join(timeout=5)
    assert sender.dead, "every send returned while the page had read nothing"
    assert isinstance(sender.exception, StopIteration)  # the connection was handed back to gunicorn closed
    received = read_frames(page)  # now the page reads: everything, in order, then the close
    assert received == [(TEXT, m) for m in messages] + [(CLOSE, struct.pack("!H", 1000))]
    page.close()
    environ["gunicorn.socket"].close()  # as gunicorn does


def test_a_page_that_is_gone_costs_the_sender_nothing():
    environ, page = page_and_server()

    def handler(ws: WebSocket) -> None:
        page.close()  # the page goes away after the handshake
        sent = 0
        with pytest.raises(OSError, match="closed"):  # at once, without waiting
            while sent < 3000:
                ws.send("x" * 120)
                sent += 1
        assert sent < 10 and ws.closed

    ws = WebSocket(handler, None)
    sender = gevent.spawn(ws, environ, lambda *a: None)
    sender.join(timeout=5)
    assert sender.dead and isinstance(sender.exception, StopIteration)
    environ["gunicorn.socket"].close()
