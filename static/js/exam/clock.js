// The countdown. The server owns time: every reply carries the seconds left, and the page only
// counts down from the last one it was given. Under node the clock takes an injected now().

import { _ } from "../i18n.js";

/** Seconds as hh:mm:ss, rounded up (00:00:01 until the last second is over), never negative. */
export function formatClock(seconds) {
  seconds = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  return [h, m, s].map((v) => String(v).padStart(2, "0")).join(":");
}

// A warning shows when the countdown enters its minute (a page opened later gets none).
const WARNINGS = [
  [900, () => _("距离考试结束还有 %(minutes)s 分钟，请注意掌握时间。", { minutes: 15 })],
  [300, () => _("距离考试结束还有 %(minutes)s 分钟，请尽快检查并交卷。", { minutes: 5 })],
];

/**
 * @param {function(): number} [now]  milliseconds of a monotonic clock (performance.now)
 */
export function createClock(now = () => performance.now()) {
  let remaining = null, receivedAt = 0, paused = false, warned = {};
  return {
    /** The server's seconds left (anything but a number is ignored: a reply without them). */
    resync(seconds) {
      if (typeof seconds !== "number") return;
      remaining = seconds;
      receivedAt = now();
    },
    /** Seconds left now, or null before the server said. */
    remainingNow() {
      if (remaining === null) return null;
      if (paused) return remaining; // the server's clock stands still while paused
      return Math.max(0, remaining - (now() - receivedAt) / 1000);
    },
    get paused() { return paused; },
    /** Stops or restarts the countdown; a restart counts from now. */
    setPaused(value) {
      paused = value;
      if (!value) receivedAt = now();
    },
    /** The warnings due at ``left`` seconds, each given once (until resetWarnings). */
    warningsDue(left) {
      const due = [];
      for (const [at, text] of WARNINGS) {
        if (left <= at && left > at - 60 && !warned[at]) { warned[at] = true; due.push(text()); }
      }
      return due;
    },
    /** After a new paper or a change of time, the warnings may be given again. */
    resetWarnings() { warned = {}; },
  };
}
