"""Every JSON body and socket payload has one declared schema, checked here before anything else
(the only module that imports pydantic).

A body is parsed with bounded size (the caller's limit) and depth (JSON nested past the parser's
recursion limit is refused, not a 500), then validated against its schema: strict types (a list is
not a string, a string is not a number, true is not 1), ids a database column holds (0 < id < 2^63),
texts of bounded length. A failure is :class:`InvalidInput` naming the field, with the code
``bad_<field>`` (or ``bad_json`` for a body that is not a JSON object). Rules of the domain (is this
seat free, is this answer an option of the question) stay with the services and the core.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cbt.core.errors import BadRequest, InvalidInput

T = TypeVar("T", bound="Schema")

Id = Annotated[int, Field(strict=True, gt=0, lt=2**63)]
Count = Annotated[int, Field(strict=True, ge=-(2**31), le=2**31)]  # the service checks the range that makes sense
Short = Annotated[str, Field(strict=True, max_length=64)]
Text = Annotated[str, Field(strict=True, max_length=2000)]  # the services allow 500; this bounds the work


class Schema(BaseModel):
    """Known fields are checked strictly, and a field the endpoint does not know is refused."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


# --- the candidate API and the live channel ------------------------------------------------------


class Login(Schema):
    ticket: Short | None = None
    id_number: Short | None = None


class Save(Schema):
    """The answer and its sequence number are checked by the question's type and the save itself
    (their own codes: invalid_answer, invalid_seq); their size is bounded by the body's (4 KB)."""

    answer: Any = None
    seq: Any = None


class SaveEvent(Save):
    question_id: Short


class Ack(Schema):
    message_id: Id


class Watch(Schema):
    room_id: Id
    session_id: Id | None = None


# --- the proctor API -----------------------------------------------------------------------------


class ForCandidate(Schema):
    candidate_id: Id | None = None


class ForOneCandidate(Schema):
    candidate_id: Id


class WithReason(ForCandidate):
    reason: Text | None = None


class OneWithReason(ForOneCandidate):
    reason: Text | None = None


class Extend(WithReason):
    minutes: Count | float | None = None


class Message(ForCandidate):
    text: Text | None = None


class BatchMessage(Schema):
    text: Text | None = None


class Move(OneWithReason):
    seat: Short | None = None


class Note(ForCandidate):
    category: Short | None = None
    text: Text | None = None
    session_id: Id


class Sign(Schema):
    session_id: Id


def query_id(value: str | None, name: str) -> int | None:
    """An id from a query string (``?session=3``): None when absent, else a row id or InvalidInput."""
    if value is None or value == "":
        return None
    if not value.isdigit() or not 0 < int(value) < 2**63:
        raise InvalidInput(f"{name} 不正确：必须是合理范围内的整数", code=f"bad_{name}")
    return int(value)


def loads(raw: bytes | str) -> Any:
    """JSON text to a value, or BadRequest (not JSON, or nested deeper than the parser allows)."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise BadRequest("请求内容嵌套过深", code="bad_json") from None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("请求内容不是有效的 JSON", code="bad_json") from None


def check(schema: type[T], data: object) -> T:
    """``data`` as ``schema``, or InvalidInput naming the first wrong field."""
    if not isinstance(data, dict):
        raise BadRequest("请求内容不是有效的 JSON 对象", code="bad_json")
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"][:1]) or "body"
        raise InvalidInput(f"{field} 不正确：{_why(first)}", code=f"bad_{field}") from None
    except RecursionError:
        raise BadRequest("请求内容嵌套过深", code="bad_json") from None


def _why(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "缺少该项"
    if kind.startswith("int") or kind in ("greater_than", "less_than", "greater_than_equal", "less_than_equal"):
        return "必须是合理范围内的整数"
    if kind.startswith("string"):
        return "必须是不超过限定长度的文字"
    if kind.startswith("list") or kind == "too_long":
        return "必须是不超过限定长度的列表"
    return "类型不对"
