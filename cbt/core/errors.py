"""Domain errors and validation problems.

A :class:`CbtError` carries a stable machine-readable ``code`` (English) and a message for people:
a message id in Chinese with named placeholders (``%(seat)s``) and their parameters, rendered at the
edge in the reader's language (``cbt.i18n.render``); the web layer maps it to an HTTP status in one
place. A :class:`Problem` is one finding of
a validation run; validation collects every problem instead of stopping at the first.
"""

from __future__ import annotations

from dataclasses import dataclass


class CbtError(Exception):
    """Base of every domain error: ``code`` for machines; for people, ``template`` (a Chinese message
    id) filled with ``params``. ``message`` is it in Chinese (the command line, logs)."""

    code = "error"
    status = 400

    def __init__(self, template: str, *, code: str | None = None, detail: object = None, **params: object) -> None:
        self.template, self.params = template, params
        self.message = template % params if params else template
        super().__init__(self.message)
        if code is not None:
            self.code = code
        self.detail = detail


class NotFound(CbtError):
    code = "not_found"
    status = 404


class Conflict(CbtError):
    code = "conflict"
    status = 409


class InvalidInput(CbtError):
    code = "invalid_input"
    status = 422


class AssemblyError(CbtError):
    """The bank cannot give a form that meets the blueprint."""

    code = "assembly_failed"
    status = 409


ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One validation finding. ``code`` is stable English; ``message`` is Chinese."""

    severity: str
    code: str
    message: str
    file: str | None = None
    line: int | None = None
    item: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def where(self) -> str:
        place = self.file or "<pack>"
        if self.line is not None:
            place += f":{self.line}"
        if self.item:
            place += f" [{self.item}]"
        return place

    def __str__(self) -> str:
        return f"{self.where()}: {self.severity} {self.code}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "item": self.item,
        }


class BadRequest(CbtError):
    code = "bad_request"
    status = 400


class TooManyRequests(CbtError):
    code = "too_many_attempts"
    status = 429


class Unauthorized(CbtError):
    code = "unauthorized"
    status = 401


class Forbidden(CbtError):
    code = "forbidden"
    status = 403


class Busy(CbtError):
    """The server could not do it in time (an overload): try again; a retry never does it twice."""

    code = "server_busy"
    status = 503
