"""Page signals: what a candidate's exam page may report, and how much of it.

A signal is evidence for a person (a proctor), never a penalty. It is checked before anything is
stored: a kind the page can send, a time away where the kind has one (a number of seconds, neither
missing, negative nor longer than an exam day), nothing where it has none. A page that sends more
than a person could is refused by a budget per connection, and signals of one kind from one
candidate within :data:`COALESCE_SECONDS` are counted into one incident (count and total time away),
so a flood can neither slow the writer nor push the real events out of the room record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cbt.core.errors import InvalidInput, TooManyRequests
from cbt.core.text import N_

TIMED = {"tab_hidden", "window_blur"}  # the page reports how long it was away
UNTIMED = {"fullscreen_exit", "copy", "paste", "contextmenu"}
KINDS = TIMED | UNTIMED
DEFAULT_THRESHOLDS = {"tab_hidden": 2.0, "window_blur": 5.0}  # seconds away before it is worth a proctor's look
MAX_AWAY_SECONDS = 6 * 3600  # longer than any exam day: a page that says more is not telling the truth
COALESCE_SECONDS = 60  # one incident per candidate and kind in this window, with a count
BUDGET_RATE = 1.0  # signals per second a connection may send, sustained...
BUDGET_BURST = 10  # ...and at once

# What the room's event list calls each kind of signal (the page's, and the server's own).
SIGNAL_TEXT = {
    "tab_hidden": N_("切换离开考试页面"),
    "window_blur": N_("考试窗口失去焦点"),
    "fullscreen_exit": N_("退出全屏"),
    "copy": N_("尝试复制"),
    "paste": N_("尝试粘贴"),
    "contextmenu": N_("尝试打开右键菜单"),
    "disconnected": N_("连接中断"),
    "reconnected": N_("连接恢复"),
    "second_login": N_("在另一位置登录"),
}


# The kinds a tile counts as incidents on its badge.
BADGE_KINDS = [k for k in SIGNAL_TEXT if k != "reconnected"] + ["proctor_record", "seat_change"]


@dataclass(frozen=True)
class Signal:
    kind: str
    seconds: float | None = None

    def detail(self) -> dict[str, float]:
        return {} if self.seconds is None else {"seconds": self.seconds}

    def worth_recording(self, thresholds: dict[str, float]) -> bool:
        """A short look away (under the kind's threshold) is not worth a proctor's attention."""
        return self.seconds is None or self.seconds >= thresholds.get(self.kind, 0)


def parse(data: object) -> Signal:
    """The signal a page sent (``{"kind", "seconds"?}``), or InvalidInput saying what is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str) or data["kind"] not in KINDS:
        raise InvalidInput("未知的页面信号", code="bad_signal")
    kind, seconds = data["kind"], data.get("seconds")
    if kind in UNTIMED:
        if seconds is not None:
            raise InvalidInput("该页面信号不带时长", code="bad_signal")
        return Signal(kind)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds != seconds:
        raise InvalidInput("页面信号缺少离开时长（秒）", code="bad_signal")
    if not 0 <= seconds <= MAX_AWAY_SECONDS:
        raise InvalidInput("页面信号的离开时长不合理", code="bad_signal")
    return Signal(kind, round(float(seconds), 1))


def coalesced(previous: dict[str, Any], signal_detail: dict[str, Any], at: str) -> dict[str, Any]:
    """The detail of an incident that took one more signal of its kind: count and total time away."""
    merged = {**previous, "count": int(previous.get("count", 1)) + 1, "last_at": at}
    if "seconds" in signal_detail:
        merged["seconds"] = round(float(previous.get("seconds", 0)) + signal_detail["seconds"], 1)
    return merged


def summary(detail: dict[str, Any]) -> str:
    """How a (coalesced) signal reads in the record: （3 次，共 45 秒）."""
    count, seconds = detail.get("count", 1), detail.get("seconds")
    timed = isinstance(seconds, (int, float)) and not isinstance(seconds, bool)
    if count > 1 and timed:
        return N_("（%(count)s 次，共 %(seconds).0f 秒）") % {"count": count, "seconds": seconds}
    if count > 1:
        return N_("（%(count)s 次）") % {"count": count}
    return N_("（%(seconds).0f 秒）") % {"seconds": seconds} if timed else ""


@dataclass(slots=True)
class Budget:
    """A token bucket per connection: ``rate`` signals a second sustained, ``burst`` at once."""

    rate: float = BUDGET_RATE
    burst: float = BUDGET_BURST
    _tokens: float = field(default=-1.0, init=False)
    _at: float = field(default=0.0, init=False)

    def spend(self, now: float) -> None:
        """Take one signal's token at ``now`` (seconds), or TooManyRequests (it is not recorded)."""
        if self._tokens < 0:
            self._tokens, self._at = self.burst, now
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            raise TooManyRequests("页面信号过于频繁，已忽略", code="rate_limited")
        self._tokens -= 1
