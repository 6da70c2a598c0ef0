"""The live channel's WebSocket framing (cbt/realtime/websocket.py), spoken byte by byte to the real
gunicorn server: what a browser's handshake gets, and what each bad frame gets."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import socket
import struct
import time

import pytest

from cbt.realtime.websocket import BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT
from tests.e2e.server import one_server

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class RawClient:
    """A WebSocket client written out by hand, offering what Chromium offers (permessage-deflate)."""

    def __init__(self, url: str, version: str = "13") -> None:
        host, port = url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {self.key}\r\nSec-WebSocket-Version: {version}\r\n"
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        self.status_line, *lines = head.decode().split("\r\n")
        self.headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        return chunk

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self.buffer += self._recv()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send_frame(self, opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True, rsv: int = 0) -> None:
        mask = os.urandom(4) if masked else b""
        n = len(payload)
        length = (
            bytes([(0x80 if masked else 0) | n]) if n < 126 else struct.pack("!BH", (0x80 if masked else 0) | 126, n)
        )
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if masked else payload
        self.sock.sendall(bytes([(0x80 if fin else 0) | rsv | opcode]) + length + mask + body)

    def frame(self) -> tuple[int, int, bytes]:
        """(first byte, opcode, payload) of the next frame from the server."""
        b0, b1 = self._read(2)
        assert not b1 & 0x80, "a server never masks"
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self._read(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", self._read(8))
        return b0, b0 & 0x0F, self._read(n)

    def closed_with(self) -> int:
        """The close code the server sent; then the server ends the connection."""
        _b0, opcode, payload = self.frame()
        assert opcode == CLOSE, (opcode, payload)
        with pytest.raises((EOFError, ConnectionResetError)):
            while True:
                self.buffer += self._recv()
        return struct.unpack("!H", payload[:2])[0]


@pytest.fixture
def client(server):
    c = RawClient(server.url)
    b0, opcode, payload = c.frame()
    assert (b0, opcode) == (0x80 | TEXT, TEXT) and payload.startswith(b"0{"), "engine.io's open packet"
    yield c
    c.sock.close()


def test_a_browsers_handshake_gets_no_compression(server):
    c = RawClient(server.url)
    assert c.status_line == "HTTP/1.1 101 Switching Protocols"
    expected = base64.b64encode(hashlib.sha1(c.key.encode() + GUID).digest()).decode()
    assert c.headers["sec-websocket-accept"] == expected
    assert "sec-websocket-extensions" not in c.headers  # permessage-deflate offered, not agreed
    b0, _opcode, payload = c.frame()
    assert b0 == 0x80 | TEXT and b'"sid"' in payload  # final, no RSV1 (uncompressed)
    c.sock.close()


def test_an_unknown_websocket_version_is_refused(server):
    c = RawClient(server.url, version="8")
    assert c.status_line.startswith("HTTP/1.1 400")
    c.sock.close()


def test_pings_are_answered_and_fragments_joined(client):
    client.send_frame(PING, b"seat-12")
    assert client.frame()[1:] == (PONG, b"seat-12")
    message = b'40/exam,{"token":"not-a-token"}'
    client.send_frame(TEXT, message[:5], fin=False)
    client.send_frame(PING, b"between")  # control frames may come between fragments
    client.send_frame(CONTINUATION, message[5:12], fin=False)
    client.send_frame(CONTINUATION, message[12:])
    assert client.frame()[1:] == (PONG, b"between")
    _b0, opcode, payload = client.frame()
    assert opcode == TEXT and payload.startswith(b"44/exam,"), payload  # the whole message was read: refused token


def test_a_close_is_answered_with_a_close(client):
    client.send_frame(CLOSE, struct.pack("!H", 1000))
    assert client.closed_with() == 1000


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (dict(opcode=TEXT, payload=b"4", masked=False), 1002),  # a client must mask
        (dict(opcode=TEXT, payload=b"4", rsv=0x40), 1002),  # compressed, though nothing was agreed
        (dict(opcode=CONTINUATION, payload=b"4"), 1002),  # continues nothing
        (dict(opcode=0x3, payload=b"4"), 1002),  # no such opcode
        (dict(opcode=PING, payload=b"x", fin=False), 1002),  # a fragmented control frame
        (dict(opcode=TEXT, payload=b"4\xff\xfe"), 1007),  # not UTF-8
    ],
)
def test_a_bad_frame_closes_with_the_rfc_code(client, bad, code):
    client.send_frame(**bad)
    assert client.closed_with() == code


def test_a_message_over_64_kb_is_refused_before_it_is_read(client):
    client.sock.sendall(struct.pack("!BBQ", 0x80 | BINARY, 0x80 | 127, 70000))  # the header alone
    assert client.closed_with() == 1009


@pytest.fixture(scope="module")
def quick_pings(tmp_path_factory):
    with one_server(tmp_path_factory.mktemp("pings"), CBT_PING_INTERVAL="1", CBT_PING_TIMEOUT="1") as server:
        yield server


def test_the_server_pings_and_drops_a_silent_page(quick_pings):
    """engine.io's pings, sent from timers (websocket.py): one every interval while the page answers;
    a page that stops answering is closed after the timeout."""
    c = RawClient(quick_pings.url)
    _b0, _opcode, payload = c.frame()
    assert json.loads(payload[1:])["pingInterval"] == 1000
    for _ in range(3):
        started = time.monotonic()
        assert c.frame()[1:] == (TEXT, b"2")  # ping
        assert 0.8 < time.monotonic() - started < 2
        c.send_frame(TEXT, b"3")  # pong
    assert c.frame()[1:] == (TEXT, b"2")
    started = time.monotonic()  # no pong now: the server ends the connection (by its ping check or
    with pytest.raises((EOFError, ConnectionResetError)):  # the read timeout, whichever comes first)
        while True:
            assert c.frame()[1:] in ((TEXT, b"1"), (CLOSE, struct.pack("!H", 1000)))  # engine.io's close
    assert time.monotonic() - started < 3
    c.sock.close()


@pytest.mark.parametrize("transports", [["polling"], ["polling", "websocket"]])
def test_the_live_channel_over_long_polling_as_a_page_falls_back(server, transports):
    """Where a network blocks WebSockets the page falls back to long-polling, and upgrades when it
    can: engine.io's own path beside ours (websocket.py leaves it to engine.io). Events in, pushes
    out, the start with its paper, a broadcast read and acknowledged."""
    from bench.loadgen import Candidate, Proctor, Stats  # the benchmark's page and dashboard clients

    demo = server.demo(candidates=2, admission=True)

    async def day() -> None:
        stats, went = Stats(), asyncio.Event()
        went.set()
        proctor = Proctor(server.url, next(s for s in demo["staff"] if s["role"] == "proctor"), stats)
        page = Candidate(server.url, demo["candidates"][0], stats)
        page.transports = transports
        admitted = asyncio.Event()
        page.sio.on("admitted", lambda data: admitted.set(), namespace="/exam")
        await proctor.watch()
        await page.arrive(went)
        reply = await page.sio.call("signal", {"kind": "nope"}, namespace="/exam", timeout=10)
        assert reply["error"] == "bad_signal" and reply["status"] == 422
        await proctor.admit_room()
        await asyncio.wait_for(admitted.wait(), 10)
        await page.start(went)  # 开始考试 over the live channel, the paper in its answer
        assert page.view["items"] and page.view["state"] == "in_progress"
        await proctor.broadcast("请检查答题卡")
        while not stats.notices:
            await asyncio.sleep(0.05)
        await asyncio.wait_for(stats.readers.finished(), 15)  # read, then 我已知晓
        assert page.sio.transport() == transports[-1]
        assert not stats.errors
        await page.close()
        await proctor.close()

    asyncio.run(day())
