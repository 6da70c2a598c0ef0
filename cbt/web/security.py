"""Headers every response carries, and the cookie settings behind TLS.

- A Content-Security-Policy on every page: scripts, styles and connections only from this server
  (no inline script anywhere: the pages' code is in static/js), never framed.
- ``Cache-Control: no-store`` on every page and JSON answer: pages embed CSRF and socket tokens.
- ``CBT_SECURE_COOKIES``: the session cookie only over HTTPS (behind a TLS-terminating proxy).
"""

from __future__ import annotations

from flask import Flask, Response

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",  # the API and the live channel (CSP 3: 'self' covers ws: and wss: of this host)
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def install(app: Flask, *, secure_cookies: bool) -> None:
    app.config["SESSION_COOKIE_SECURE"] = secure_cookies

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)  # the photo sets a stricter one of its own
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype in ("text/html", "application/json"):
            headers.setdefault("Cache-Control", "no-store")
        return response
