"""How production runs cbt (gunicorn reads this file from the working directory; `make run`, the
end-to-end tests and the benchmark all start it so). Measured in docs/performance.md."""

import os

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "cbt"  # the Server header names no product or version for an attacker

bind = os.environ.get("CBT_BIND", "127.0.0.1:8000")
workers = 1  # one process per core at most; scale-out runs several (each its own gevent hub)
worker_class = "gevent"  # thousands of WebSockets on one process; thread-per-connection does not hold them
worker_connections = 20000
backlog = 8192  # a start storm of thousands of handshakes at the same second
keepalive = 75  # longer than a page's pause between requests: a closed idle connection races its next request
graceful_timeout = 10
control_socket_disable = True


def post_fork(server, worker):
    """gevent records every greenlet's spawning stack and tree by default, for debugging: a greenlet
    per connection, each spawn slower and kept larger (docs/performance.md)."""
    import gevent

    gevent.config.track_greenlet_tree = False
