"""The live channel's WebSocket under gunicorn's gevent worker: RFC 6455 framing, read in the
connection's own greenlet.

**This module replaces private parts of python-engineio** (``Server._async["websocket"]`` and four
methods of ``engineio.socket.Socket``), written against the version pinned in requirements.txt
(:data:`ENGINEIO_VERSION`). :func:`install` refuses to start on another version, or if one of the
parts it replaces is missing: a silent mismatch would lose the live channel on exam day.

It stands in for simple-websocket, the default of engine.io's gevent driver, which costs a third
greenlet per connection (its reader) and agrees to permessage-deflate whenever a browser offers it
(every browser does): two zlib streams per connection, about 100 KB of memory each candidate, to
compress messages of a few dozen bytes (measured: docs/performance.md). Here nothing is compressed,
no extension or subprotocol is agreed, and a bad frame closes the connection with the RFC's code.

engine.io drives the object as it drives its own drivers' (``_async["websocket"]``): it is called
as a WSGI application and calls engine.io's handler with itself. :func:`install` replaces two of
engine.io's greenlets per connection, 7 KB of memory each (docs/performance.md): its writer (a queue
drained by a greenlet of its own) by writing straight to the socket from whichever greenlet sends,
what the socket cannot take at once finished in order by a short-lived greenlet, so a slow page
never holds up a broadcast; and the greenlet that sleeps through each ping interval by a timer on
gevent's loop. A connection upgraded from long-polling keeps engine.io's own handler.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import struct
import time
from collections.abc import Callable
from typing import Any

from engineio import exceptions, packet
from engineio.socket import Socket

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_MESSAGE = 64 * 1024  # engine.io's own limit is larger; the pages' messages are a few hundred bytes
# What a page may leave unread: a paper (~100 KB of JSON) and the pushes of a busy minute. A client
# that reads nothing (pings and never reads the pongs) meets it and is dropped; and while anything
# is unsent this side reads no more of its frames, so the client's own sends stall.
MAX_UNSENT = 1024 * 1024
# Frames a page may send: a page sends a few a minute (answers, signals, receipts, pongs); a client
# past this is flooding, and is closed (1008) before its messages cost the server any more.
FRAMES_PER_SECOND, FRAME_BURST = 20, 200
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
NORMAL, PROTOCOL_ERROR, INVALID_DATA, POLICY, TOO_BIG = 1000, 1002, 1007, 1008, 1009


class Closed(Exception):
    """The connection is over; ``code`` is what to tell the other side (None: nothing to tell)."""

    def __init__(self, code: int | None = None) -> None:
        super().__init__(code)
        self.code = code


def accept_key(key: str) -> str | None:
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key, or None if the key is not 16 bytes of base64."""
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            return None
    except (binascii.Error, ValueError):
        return None
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + GUID).digest()).decode("ascii")


def frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked frame (a server never masks)."""
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return header + payload


def unmask(payload: bytes, mask: bytes) -> bytes:
    n = len(payload)
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")


class WebSocket:
    """One WebSocket connection taken over from gunicorn (``environ["gunicorn.socket"]``)."""

    __slots__ = (  # one per candidate: no instance dict
        "_allowance",
        "_buffer",
        "_counted_at",
        "_drained",
        "_shut_after_unsent",
        "_sock",
        "_unsent",
        "_unsent_bytes",
        "app",
        "closed",
    )  # fmt: skip

    def __init__(self, handler: Callable[[WebSocket], Any], server: Any) -> None:
        self.app = handler
        self._sock: Any = None  # engine.io sets its read timeout (ping interval + timeout) on it
        self._buffer = b""
        self._unsent: list[bytes] = []  # what the socket could not take yet, oldest first
        self._unsent_bytes = 0
        self._drained: Any = None  # a gevent Event the reader waits on while output is backed up
        self._shut_after_unsent = False
        self.closed = False
        self._allowance, self._counted_at = float(FRAME_BURST), time.monotonic()

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        sock = environ.get("gunicorn.socket")
        accept = accept_key(environ.get("HTTP_SEC_WEBSOCKET_KEY", ""))
        if sock is None or accept is None or environ.get("HTTP_SEC_WEBSOCKET_VERSION") != "13":
            start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"Bad WebSocket handshake"]
        self._sock = sock
        sock.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept.encode("ascii") + b"\r\n\r\n"
        )
        try:
            self.app(self)
        finally:
            self.close()
        raise StopIteration  # gunicorn: the connection was taken over; close it, write nothing

    # --- what engine.io calls ---------------------------------------------------------------------

    def wait(self) -> str | bytes | None:
        """The next whole message (text as str, binary as bytes); None once the connection is over."""
        try:
            return self._message()
        except Closed as closed:
            self.close(closed.code)
        except OSError:  # reset, or no frame within engine.io's ping timeout
            self.closed = True
        return None

    def send(self, message: str | bytes) -> None:
        """Never waits: what the socket cannot take now is sent, in order, by a greenlet of its own."""
        if self.closed:
            raise OSError("the WebSocket is closed")
        if isinstance(message, str):
            self._send(frame(TEXT, message.encode("utf-8")))
        else:
            self._send(frame(BINARY, message))

    def close(self, code: int | None = NORMAL) -> None:
        if self.closed:
            return
        if code is not None:
            self._send(frame(CLOSE, struct.pack("!H", code)))
        self.closed = True
        if self._unsent:
            self._shut_after_unsent = True
        else:
            self._shut()

    def _shut(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(1)  # SHUT_WR: the client closes its side and our reader sees the end

    # --- framing ----------------------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        if self.closed:
            return
        if self._unsent:  # the unsent greenlet is at work: after what it has, in order
            self._queue(data)
            return
        try:
            sent = self._sock._sock.send(data)  # gevent's socket over a non-blocking one: never waits
        except BlockingIOError:
            sent = 0
        except OSError:  # the page is gone: the reader finds the end and engine.io closes the socket
            self._gone()
            return
        if sent < len(data):
            from gevent import spawn

            self._queue(data[sent:])
            spawn(self._send_unsent)

    def _queue(self, data: bytes) -> None:
        """Keep what the page has not taken yet, up to :data:`MAX_UNSENT`; past it the page is dropped
        (it reads nothing: no close frame would reach it either)."""
        self._unsent_bytes += len(data)
        if self._unsent_bytes > MAX_UNSENT:
            self._gone(both=True)
            return
        self._unsent.append(data)

    def _send_unsent(self) -> None:
        try:
            while self._unsent:
                self._sock.sendall(self._unsent[0])  # waits for the page, up to the read timeout
                self._unsent_bytes -= len(self._unsent.pop(0))
        except OSError:
            self._gone()
            return
        finally:
            if self._drained is not None:  # the reader waits for this
                self._drained.set()
        if self._shut_after_unsent:
            self._shut()

    def _gone(self, both: bool = False) -> None:
        self.closed = True
        self._unsent.clear()
        self._unsent_bytes = 0
        if self._drained is not None:
            self._drained.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(2 if both else 1)  # both: the reader stops too

    def _message(self) -> str | bytes:
        kind, parts, size = 0, [], 0
        while True:
            fin, opcode, payload = self._frame()
            if opcode == PING:
                self._send(frame(PONG, payload))
                continue
            if opcode == PONG:
                continue
            if opcode == CLOSE:
                raise Closed(NORMAL)
            if opcode == CONTINUATION:
                if not kind:
                    raise Closed(PROTOCOL_ERROR)  # a continuation with nothing to continue
            elif opcode in (TEXT, BINARY) and not kind:
                kind = opcode
            else:
                raise Closed(PROTOCOL_ERROR)  # an unknown opcode, or a new message inside a fragmented one
            parts.append(payload)
            size += len(payload)
            if size > MAX_MESSAGE:
                raise Closed(TOO_BIG)
            if fin:
                break
        data = b"".join(parts)
        if kind == BINARY:
            return data
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise Closed(INVALID_DATA) from None

    def _frame(self) -> tuple[bool, int, bytes]:
        if self._unsent:  # output backed up: read nothing more until the page has taken it
            from gevent.event import Event

            self._drained = drained = Event()  # made only now (a greenlet cannot be preempted here)
            drained_in_time = drained.wait(self._sock.gettimeout())
            self._drained = None
            if not drained_in_time:
                raise Closed(None)  # the page has read nothing for a whole ping timeout
        if self.closed:
            raise Closed(None)
        b0, b1 = self._read(2)
        now = time.monotonic()
        self._allowance = min(FRAME_BURST, self._allowance + (now - self._counted_at) * FRAMES_PER_SECOND) - 1
        self._counted_at = now
        if self._allowance < 0:
            raise Closed(POLICY)  # a flood
        fin, opcode, length = bool(b0 & 0x80), b0 & 0x0F, b1 & 0x7F
        if b0 & 0x70 or not b1 & 0x80:
            raise Closed(PROTOCOL_ERROR)  # no extension was agreed; a client always masks
        if opcode >= CLOSE and (length > 125 or not fin):
            raise Closed(PROTOCOL_ERROR)  # control frames are short and never fragmented
        if length == 126:
            (length,) = struct.unpack("!H", self._read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read(8))
        if length > MAX_MESSAGE:
            raise Closed(TOO_BIG)
        mask = self._read(4)
        return fin, opcode, unmask(self._read(length), mask) if length else b""

    def _read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            chunk = self._sock.recv(max(4096, n - len(self._buffer)))
            if not chunk:
                raise Closed(None)  # the client went away
            self._buffer += chunk
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data


ENGINEIO_VERSION = "4.15.1"  # the python-engineio this module was written against (requirements.txt)
REPLACED = ("_websocket_handler", "send", "close", "schedule_ping", "check_ping_timeout", "receive")


def check_engineio(installed: str, eio: Any) -> None:
    """Fail loudly, at start-up, if engine.io is not the version whose private parts this replaces."""
    if installed != ENGINEIO_VERSION:
        raise RuntimeError(
            f"cbt/realtime/websocket.py replaces private parts of python-engineio {ENGINEIO_VERSION}; "
            f"{installed} is installed: pin python-engineio=={ENGINEIO_VERSION} or review the module"
        )
    missing = [name for name in REPLACED if not hasattr(Socket, name)]
    if missing or "websocket" not in getattr(eio, "_async", {}):
        raise RuntimeError(f"python-engineio lacks what cbt/realtime/websocket.py replaces: {missing or '_async'}")


def install(eio: Any) -> None:
    """Under gevent: this WebSocket for engine.io's own driver, without its writer and ping greenlets."""
    from importlib.metadata import version

    check_engineio(version("python-engineio"), eio)
    eio._async = {**eio._async, "websocket": WebSocket}
    Socket._websocket_handler = _handle
    Socket.send = _send
    Socket.close = _close
    Socket.schedule_ping = _schedule_ping


_ENGINEIO = {"handle": Socket._websocket_handler, "send": Socket.send, "close": Socket.close}


def _handle(sock: Socket, ws: WebSocket) -> list:
    """engine.io's ``Socket._websocket_handler`` for a page that opened the WebSocket directly: its
    messages read here, the socket's packets written straight to ``ws`` (no writer greenlet)."""
    if sock.connected:  # an upgrade from long-polling: engine.io's own way
        return _ENGINEIO["handle"](sock, ws)
    server = sock.server
    ws._sock.settimeout(server.ping_interval + server.ping_timeout)  # a silent page is gone
    sock.connected = sock.upgraded = True
    while not sock.queue.empty():  # engine.io's open packet, queued when the socket was made
        ws.send(sock.queue.get_nowait().encode())
    sock.direct = ws
    while (message := ws.wait()) is not None:
        try:
            sock.receive(packet.Packet(encoded_packet=message))
        except exceptions.UnknownPacketError:
            pass
        except exceptions.SocketIsClosedError:
            break
        except Exception:
            server.logger.exception("engine.io could not handle a message from %s", sock.sid)
            break
    sock.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)
    return []


def _send(sock: Socket, pkt: packet.Packet) -> None:
    ws = getattr(sock, "direct", None)
    if ws is None:
        return _ENGINEIO["send"](sock, pkt)
    if sock.check_ping_timeout():  # as engine.io: raises if closed, closes a page past its ping timeout
        with contextlib.suppress(OSError):  # gone: the reader finds the end
            ws.send(pkt.encode())
    return None


def _close(sock: Socket, wait: bool = True, abort: bool = False, reason: Any = None) -> None:
    ws = getattr(sock, "direct", None)
    if ws is None:
        return _ENGINEIO["close"](sock, wait, abort, reason)
    _ENGINEIO["close"](sock, False, abort, reason)  # nothing to wait for: no writer greenlet
    ws.close()
    return None


def _schedule_ping(sock: Socket) -> None:
    """engine.io's ``Socket.schedule_ping`` (called on connect and on every pong) without its greenlet."""
    from gevent import get_hub

    if sock.last_ping:  # as engine.io: only once the previous ping was answered
        sock.last_ping = None
        timer = get_hub().loop.timer(sock.server.ping_interval)
        timer.start(_ping, sock, timer)


def _ping(sock: Socket, timer: Any) -> None:
    timer.close()
    if not sock.closing and not sock.closed:
        sock.last_ping = time.time()
        with contextlib.suppress(exceptions.SocketIsClosedError):
            sock.send(packet.Packet(packet.PING))
