"""The server process: keep-alive connections as browsers use them, closed as the client asks,
without an error."""

from __future__ import annotations

import socket
from pathlib import Path


def _request(sock: socket.socket, path: str, *, close: bool = False) -> bytes:
    connection = "close" if close else "keep-alive"
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: cbt\r\nConnection: {connection}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head.split(b"\r\n")[0] + b" " + body


def test_keep_alive_and_close_as_the_client_asks(server):
    host, port = server.url.removeprefix("http://").split(":")
    log = Path(server.log.name)
    logged = log.stat().st_size
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        for _ in range(3):  # one connection, several requests, as the exam page's keep-alive does
            assert _request(sock, "/healthz").startswith(b"HTTP/1.1 200")
        assert _request(sock, "/api/v1/candidate/status", close=True).startswith(b"HTTP/1.1 401")
        assert sock.recv(1) == b"", "closed after the request that asked for it"
    server.log.flush()
    assert "Traceback" not in log.read_text(errors="replace")[logged:], "closing is not an error"


def test_the_server_names_no_product_and_the_live_channel_refuses_foreign_origins(server):
    """gunicorn's banner is gone; a page from another origin cannot open the live channel (a browser
    sends its Origin), the server's own can."""
    import urllib.error
    import urllib.request

    with urllib.request.urlopen(server.url + "/") as r:
        assert "gunicorn" not in (r.headers.get("Server") or "").lower()
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    handshake = server.url + "/socket.io/?EIO=4&transport=polling"
    for origin, ok in (("http://evil.example", False), (server.url, True)):
        request = urllib.request.Request(handshake, headers={"Origin": origin})
        try:
            with urllib.request.urlopen(request) as r:
                status = r.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        assert (status == 200) is ok, origin
