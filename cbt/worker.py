"""The server process: gunicorn's gevent worker, each plain HTTP request in a greenlet of its own.

A keep-alive connection's greenlet outlives its requests. In Python 3.11 a greenlet keeps its own
frame stack, and the pages a deep request touched there (Flask, SQLAlchemy: some 60 frames) stay
resident while the connection waits for the page's next request: 12 KB more per idle connection
(measured: 13.9 KB per idle keep-alive connection after a shallow request, 25.9 KB after a 60-frame
one, 14.8 KB with this worker; docs/performance.md). Here the connection's greenlet only parses;
each request runs in a short-lived greenlet whose stack is freed when it ends. A WebSocket upgrade
keeps its connection's greenlet: it lives as long as the connection anyway.
"""

from __future__ import annotations

from typing import Any

import gevent
from gunicorn.workers.ggevent import GeventWorker


class Worker(GeventWorker):
    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        if any(name == "UPGRADE" for name, _value in req.headers):
            return super().handle_request(listener_name, req, sock, addr)
        return gevent.spawn(GeventWorker.handle_request, self, listener_name, req, sock, addr).get()
