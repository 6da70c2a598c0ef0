// The countdown from the server's seconds left, with a clock the test moves.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createClock, formatClock } from "../../static/js/exam/clock.js";

function fakeClock() {
  const time = { ms: 50000 };
  return { time, clock: createClock(() => time.ms) };
}

test("formatClock: hh:mm:ss, rounded up to the second, never negative", () => {
  assert.equal(formatClock(0), "00:00:00");
  assert.equal(formatClock(0.001), "00:00:01");
  assert.equal(formatClock(59.2), "00:01:00");
  assert.equal(formatClock(61), "00:01:01");
  assert.equal(formatClock(3599), "00:59:59");
  assert.equal(formatClock(3600), "01:00:00");
  assert.equal(formatClock(5400), "01:30:00");
  assert.equal(formatClock(36000 + 3 * 60 + 4), "10:03:04");
  assert.equal(formatClock(-5), "00:00:00");
});

test("nothing to show before the server gave the seconds left", () => {
  const { clock } = fakeClock();
  assert.equal(clock.remainingNow(), null);
  clock.resync(undefined); // a reply without remaining_seconds changes nothing
  clock.resync(null);
  clock.resync("90");
  assert.equal(clock.remainingNow(), null);
});

test("counts down from the last resync, and each reply resets it to the server's figure", () => {
  const { time, clock } = fakeClock();
  clock.resync(5400);
  assert.equal(clock.remainingNow(), 5400);
  time.ms += 2500;
  assert.equal(clock.remainingNow(), 5397.5);
  clock.resync(5399); // the server says more is left than the page counted (e.g. a slow reply)
  assert.equal(clock.remainingNow(), 5399);
  time.ms += 1000;
  assert.equal(clock.remainingNow(), 5398);
  clock.resync(undefined);
  assert.equal(clock.remainingNow(), 5398, "a reply without the figure keeps the count");
  time.ms += 10000 * 1000;
  assert.equal(clock.remainingNow(), 0, "never below zero");
});

test("paused, the time stands still; resumed, it counts from the moment of resuming", () => {
  const { time, clock } = fakeClock();
  clock.resync(600);
  time.ms += 10000;
  clock.resync(590);
  clock.setPaused(true);
  assert.equal(clock.paused, true);
  time.ms += 60000;
  assert.equal(clock.remainingNow(), 590);
  clock.setPaused(false);
  assert.equal(clock.paused, false);
  assert.equal(clock.remainingNow(), 590);
  time.ms += 5000;
  assert.equal(clock.remainingNow(), 585);
});

const FIFTEEN = "距离考试结束还有 15 分钟，请注意掌握时间。";
const FIVE = "距离考试结束还有 5 分钟，请尽快检查并交卷。";

test("the 15- and 5-minute warnings are given once each, as the countdown enters their minute", () => {
  const { clock } = fakeClock();
  const seen = [];
  for (let left = 1000; left >= 0; left -= 0.25) seen.push(...clock.warningsDue(left));
  assert.deepEqual(seen, [FIFTEEN, FIVE]);
  assert.deepEqual(clock.warningsDue(900), []);
  assert.deepEqual(clock.warningsDue(300), []);
});

test("each warning at its threshold, not a second before, and not after its minute", () => {
  let { clock } = fakeClock();
  assert.deepEqual(clock.warningsDue(900.01), []);
  assert.deepEqual(clock.warningsDue(900), [FIFTEEN]);
  assert.deepEqual(clock.warningsDue(899), []);
  assert.deepEqual(clock.warningsDue(300.5), []);
  assert.deepEqual(clock.warningsDue(241), [FIVE]);
  ({ clock } = fakeClock()); // a page opened with 14 minutes left gets no 15-minute warning
  assert.deepEqual(clock.warningsDue(840), []);
  assert.deepEqual(clock.warningsDue(839), []);
  assert.deepEqual(clock.warningsDue(240), [], "nor a 5-minute one after its minute");
});

test("after a change of time the warnings are given again", () => {
  const { clock } = fakeClock();
  assert.deepEqual(clock.warningsDue(880), [FIFTEEN]);
  clock.resetWarnings(); // the proctor gave 10 more minutes, then time runs down again
  assert.deepEqual(clock.warningsDue(870), [FIFTEEN]);
  assert.deepEqual(clock.warningsDue(860), []);
});
