// The unacknowledged-answer queue of the exam page, run against a Map-backed storage, a fake
// server and a fake timer: what a candidate's answers go through between a click and the commit.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createOutbox, storageKey } from "../../static/js/exam/outbox.js";
import { ApiError, NetworkError } from "../../static/js/exam/transport.js";
import { FakeServer, FakeTimer, MapStorage, settle } from "./support.mjs";

const ATTEMPT = 42;

function outbox(storage, extra = {}) {
  const server = extra.server || new FakeServer();
  const timer = extra.timer || new FakeTimer();
  let t = extra.t0 || 1000;
  const box = createOutbox({
    storage, attemptId: ATTEMPT, send: server.send, setTimer: timer.set, now: () => t++, ...extra.options,
  });
  return { box, server, timer };
}

/** Acknowledges each call as it comes, as a healthy server does, until the queue is empty. */
async function ackAll(server, from = 0) {
  for (let i = from; ; i++) {
    await settle();
    const call = server.calls[i];
    if (!call) return;
    call.resolve({ seq: call.seq, remaining_seconds: 100 });
  }
}

test("the storage keys are the page's since the first release: cbt:<name>:<attempt id>", () => {
  const storage = new MapStorage();
  const { box } = outbox(storage);
  box.record("7", ["A"]);
  assert.deepEqual([...storage.map.keys()].sort(), ["cbt:pending:42", "cbt:seq:42"]);
  assert.equal(storageKey("flags", 9), "cbt:flags:9");
  assert.deepEqual(storage.json("cbt:pending:42"), { 7: { answer: ["A"], seq: 1, at: 1000 } });
  assert.deepEqual(storage.json("cbt:seq:42"), { 7: 1 });
});

test("an answer is stored before it is sent, and survives a reload", async () => {
  const storage = new MapStorage();
  const first = outbox(storage);
  first.box.record("q1", ["B"]);
  first.box.flush(); // sent, never answered: the page is reloaded meanwhile
  await settle();
  assert.deepEqual(first.server.sent(), ["q1:1"]);

  const second = outbox(storage); // the reloaded page, over the same storage
  assert.equal(second.box.size(), 1);
  assert.ok(second.box.has("q1"));
  assert.deepEqual(second.box.answers(), { q1: ["B"] });
  const flushed = second.box.flush();
  await ackAll(second.server);
  await flushed;
  assert.deepEqual(second.server.sent(), ["q1:1"]);
  assert.equal(second.box.size(), 0);
  second.box.record("q1", ["C"]); // the seq goes on from the stored one: the server takes it as newer
  assert.equal(storage.json("cbt:pending:42").q1.seq, 2);
});

test("a queue written by the old exam.js (same keys, same shape) is replayed after the deploy", async () => {
  const storage = new MapStorage({
    "cbt:pending:42": JSON.stringify({ 11: { answer: ["A", "C"], seq: 3, at: 1700000000002 },
      10: { answer: ["B"], seq: 1, at: 1700000000001 } }),
    "cbt:seq:42": JSON.stringify({ 10: 1, 11: 3, 12: 5 }),
    "cbt:flags:42": JSON.stringify({ 10: true }),
  });
  const { box, server } = outbox(storage);
  const flushed = box.flush();
  await ackAll(server);
  await flushed;
  assert.deepEqual(server.calls.map((c) => [c.qid, c.answer, c.seq]), [["10", ["B"], 1], ["11", ["A", "C"], 3]]);
  box.record("12", ["D"]);
  assert.equal(server.calls.length, 2);
  assert.equal(storage.json("cbt:pending:42")[12].seq, 6);
  assert.equal(storage.getItem("cbt:flags:42"), JSON.stringify({ 10: true }), "the flags are not the queue's");
});

test("replay goes oldest answer first, each question once, with its newest answer and seq", async () => {
  const storage = new MapStorage();
  const before = outbox(storage);
  before.box.record("q1", ["A"]); // at 1000
  before.box.record("q2", ["B"]); // at 1001
  before.box.record("q3", ["A"]); // at 1002
  before.box.record("q1", ["C"]); // at 1003: q1 changed its mind, now the newest
  assert.equal(before.server.calls.length, 0, "recording alone sends nothing");

  const { box, server } = outbox(storage);
  const flushed = box.flush();
  await ackAll(server);
  await flushed;
  assert.deepEqual(server.sent(), ["q2:1", "q3:1", "q1:2"]);
  assert.deepEqual(server.calls[2].answer, ["C"]);
  assert.deepEqual(storage.json("cbt:pending:42"), {});
  assert.deepEqual(storage.json("cbt:seq:42"), { q1: 2, q2: 1, q3: 1 });
});

test("an acknowledged save leaves the queue and the storage; the reply resyncs the clock", async () => {
  const storage = new MapStorage();
  const acks = [], settled = [];
  let idle = 0;
  const { box, server } = outbox(storage, { options: {
    onAck: (r) => acks.push(r.remaining_seconds), onSettled: (q) => settled.push(q), onIdle: () => idle++ } });
  box.record("q1", ["A"]);
  const flushed = box.flush();
  await settle();
  assert.ok(box.has("q1"), "pending until the server answers");
  server.last().resolve({ seq: 1, remaining_seconds: 4321 });
  await flushed;
  assert.equal(box.has("q1"), false);
  assert.equal(box.size(), 0);
  assert.deepEqual(storage.json("cbt:pending:42"), {});
  assert.deepEqual(acks, [4321]);
  assert.deepEqual(settled, ["q1"]);
  assert.equal(idle, 1);
  assert.equal(outbox(storage).box.size(), 0, "nothing left for a reload to send");
});

test("a stale acknowledgement (an older seq) leaves a newer pending answer queued", async () => {
  const storage = new MapStorage();
  const { box, server } = outbox(storage);
  box.record("q1", ["A"]);
  const flushed = box.flush();
  await settle();
  box.record("q1", ["B"]); // given while seq 1 is on its way
  server.calls[0].resolve({ seq: 1, remaining_seconds: 100 });
  await settle();
  assert.ok(box.has("q1"), "seq 2 is still not acknowledged");
  assert.deepEqual(storage.json("cbt:pending:42").q1, { answer: ["B"], seq: 2, at: 1001 });
  assert.deepEqual(server.sent(), ["q1:1", "q1:2"], "the newer answer goes next");
  server.calls[1].resolve({ seq: 2, remaining_seconds: 99 });
  await flushed;
  assert.equal(box.size(), 0);
});

test("an acknowledgement of a newer seq than sent (the server holds newer) also clears the answer", async () => {
  const { box, server } = outbox(new MapStorage());
  box.record("q1", ["A"]);
  const flushed = box.flush();
  await settle();
  server.last().resolve({ seq: 5, remaining_seconds: 1 });
  await flushed;
  assert.equal(box.size(), 0);
});

test("a failed send is kept and retried when the injected timer fires, backing off to 10 s", async () => {
  const storage = new MapStorage();
  const { box, server, timer } = outbox(storage);
  box.record("q1", ["A"]);
  let flushed = box.flush();
  await settle();
  server.last().reject(new NetworkError("TypeError: Failed to fetch"));
  await flushed;
  assert.equal(box.offline, true);
  assert.ok(box.has("q1"));
  assert.equal(storage.json("cbt:pending:42").q1.seq, 1);
  assert.deepEqual(timer.delays, [1000]);
  assert.equal(server.calls.length, 1, "nothing is sent before the timer");

  for (let i = 0; i < 5; i++) { // the server stays away: 2, 4, 8, 10, 10 s
    timer.fire();
    await settle();
    server.last().reject(new ApiError(503, "unavailable", "busy"));
    await settle();
  }
  assert.deepEqual(timer.delays, [1000, 2000, 4000, 8000, 10000, 10000]);
  assert.equal(server.calls.length, 6);

  timer.fire(); // back
  await settle();
  server.last().resolve({ seq: 1, remaining_seconds: 10 });
  await settle();
  assert.equal(box.offline, false);
  assert.equal(box.size(), 0);
  assert.deepEqual(server.sent(), Array(7).fill("q1:1"), "the same answer and seq each time");

  box.record("q2", ["B"]); // after a success the backoff starts again at 1 s
  flushed = box.flush();
  await settle();
  server.last().reject(new NetworkError("down"));
  await flushed;
  assert.equal(timer.delays.at(-1), 1000);
});

test("one retry is waiting at a time, and the network coming back sends at once", async () => {
  const { box, server, timer } = outbox(new MapStorage());
  box.record("q1", ["A"]);
  box.flush();
  await settle();
  server.last().reject(new NetworkError("down"));
  await settle();
  box.record("q2", ["B"]);
  box.flush();
  await settle();
  server.last().reject(new NetworkError("down"));
  await settle();
  assert.equal(timer.waiting.length, 1);
  assert.deepEqual(timer.delays, [1000]);
  const online = box.online();
  await settle();
  assert.equal(server.calls.length, 3);
  await ackAll(server, 2);
  await online;
  assert.equal(box.size(), 0);
});

test("the network coming back starts the backoff again at 1 s", async () => {
  const { box, server, timer } = outbox(new MapStorage());
  box.record("q1", ["A"]);
  box.flush();
  for (let i = 0; i < 3; i++) { // down for a while: the next retry would wait 8 s
    await settle();
    server.last().reject(new NetworkError("down"));
    await settle();
    timer.fire();
  }
  await settle();
  server.last().reject(new NetworkError("down"));
  await settle();
  assert.deepEqual(timer.delays, [1000, 2000, 4000, 8000]);
  box.online(); // the "online" event, before the 8 s are up: sent at once
  await settle();
  assert.equal(server.calls.length, 5);
  server.last().reject(new NetworkError("still flaky"));
  await settle();
  assert.equal(timer.waiting.length, 1, "the 8 s retry still waits, no second one");
  timer.fire();
  await settle();
  server.last().reject(new NetworkError("still flaky"));
  await settle();
  assert.deepEqual(timer.delays, [1000, 2000, 4000, 8000, 1000], "then 1 s, not 10 s");
});

test("a flush while one is running sends nothing twice", async () => {
  const { box, server } = outbox(new MapStorage());
  box.record("q1", ["A"]);
  const flushed = box.flush();
  box.flush();
  box.flush();
  await settle();
  assert.equal(server.calls.length, 1);
  server.last().resolve({ seq: 1 });
  await flushed;
  assert.equal(server.calls.length, 1);
});

test("an answer refused for good is dropped and reported; the queue goes on", async () => {
  const refused = [];
  const { box, server } = outbox(new MapStorage(), { options: { onRefused: (e) => refused.push(e.code) } });
  box.record("q1", ["Z"]);
  box.record("q2", ["A"]);
  const flushed = box.flush();
  await settle();
  server.last().reject(new ApiError(422, "invalid_answer", "答案无效"));
  await settle();
  server.last().resolve({ seq: 1 });
  await flushed;
  assert.deepEqual(server.sent(), ["q1:1", "q2:1"]);
  assert.deepEqual(refused, ["invalid_answer"]);
  assert.equal(box.size(), 0);
});

test("time up or a closed paper stops the queue: that answer is dropped, the others wait", async () => {
  for (const code of ["deadline_passed", "attempt_closed"]) {
    let closed = 0;
    const storage = new MapStorage();
    const { box, server } = outbox(storage, { options: { onClosed: () => closed++, onRefused: assert.fail } });
    box.record("q1", ["A"]);
    box.record("q2", ["B"]);
    const flushed = box.flush();
    await settle();
    server.last().reject(new ApiError(409, code, "考试已结束"));
    await flushed;
    assert.equal(closed, 1, code);
    assert.deepEqual(server.sent(), ["q1:1"]);
    assert.deepEqual(Object.keys(storage.json("cbt:pending:42")), ["q2"]);
  }
});

test("a 403 (stale CSRF token) refreshes the token and sends the same answer again", async () => {
  let refreshed = 0;
  const { box, server } = outbox(new MapStorage(), { options: { refreshCsrf: async () => { refreshed++; } } });
  box.record("q1", ["A"]);
  const flushed = box.flush();
  await settle();
  server.last().reject(new ApiError(403, "csrf", "x"));
  await settle();
  assert.equal(refreshed, 1);
  server.last().resolve({ seq: 1 });
  await flushed;
  assert.deepEqual(server.sent(), ["q1:1", "q1:1"]);
  assert.equal(box.size(), 0);
});

test("a 401 (logged out) stops sending and keeps the answer for the next login", async () => {
  const storage = new MapStorage();
  const { box, server, timer } = outbox(storage);
  box.record("q1", ["A"]);
  const flushed = box.flush();
  await settle();
  server.last().reject(new ApiError(401, "session_replaced", "x"));
  await flushed;
  assert.equal(server.calls.length, 1);
  assert.equal(timer.waiting.length, 0);
  assert.ok(outbox(storage).box.has("q1"));
});

test("the server's saved responses clear what it already has, and the seq never goes back", () => {
  const storage = new MapStorage();
  const { box } = outbox(storage);
  box.record("q1", ["A"]); // seq 1
  box.record("q2", ["B"]); // seq 1
  box.record("q2", ["C"]); // seq 2
  box.merge({ q1: { answer: ["A"], seq: 1 }, q2: { answer: ["B"], seq: 1 }, q3: { answer: ["D"], seq: 7 } });
  assert.deepEqual(box.answers(), { q2: ["C"] });
  assert.deepEqual(Object.keys(storage.json("cbt:pending:42")), ["q2"]);
  assert.deepEqual(storage.json("cbt:seq:42"), { q1: 1, q2: 2, q3: 7 });
  box.record("q3", ["E"]);
  assert.equal(storage.json("cbt:pending:42").q3.seq, 8);
});

test("corrupt storage is ignored safely: nothing throws, good entries stay, seqs stay ahead", async () => {
  const cases = [
    { pending: "{not json", seq: "[1, 2" },
    { pending: "null", seq: "null" },
    { pending: "[1, 2]", seq: "\"text\"" },
    { pending: "42", seq: "true" },
  ];
  for (const c of cases) {
    const storage = new MapStorage({ "cbt:pending:42": c.pending, "cbt:seq:42": c.seq });
    const { box, server } = outbox(storage);
    assert.equal(box.size(), 0, c.pending);
    box.record("q1", ["A"]);
    assert.equal(storage.json("cbt:pending:42").q1.seq, 1);
    const flushed = box.flush();
    await ackAll(server);
    await flushed;
    assert.deepEqual(server.sent(), ["q1:1"]);
  }

  const storage = new MapStorage({
    "cbt:pending:42": JSON.stringify({
      good: { answer: ["A"], seq: 4, at: 5 },
      noSeq: { answer: ["A"], at: 1 },
      badSeq: { answer: ["A"], seq: "2", at: 1 },
      zeroSeq: { answer: ["A"], seq: 0, at: 1 },
      badAnswer: { answer: "A", seq: 1, at: 1 },
      badOption: { answer: [{}], seq: 1, at: 1 },
      noTime: { answer: ["A"], seq: 1 },
      nothing: null,
      text: "hello",
    }),
    "cbt:seq:42": JSON.stringify({ good: 1, other: -3, more: "x", fine: 2 }),
  });
  const { box, server } = outbox(storage);
  assert.deepEqual(box.answers(), { good: ["A"] });
  box.record("other", ["B"]);
  box.record("fine", ["B"]);
  const flushed = box.flush();
  await ackAll(server);
  await flushed;
  assert.deepEqual(server.sent(), ["good:4", "other:1", "fine:3"]);
  box.record("good", ["C"]);
  assert.equal(storage.json("cbt:pending:42").good.seq, 5, "seq is ahead of the pending one, not of the corrupt map");
});

test("a storage that cannot be read or written loses only the copy: answers still go out", async () => {
  const broken = {
    getItem() { throw new Error("SecurityError"); },
    setItem() { throw new Error("QuotaExceededError"); },
  };
  const { box, server } = outbox(broken);
  assert.equal(box.size(), 0);
  box.record("q1", ["A"]);
  assert.ok(box.has("q1"));
  const flushed = box.flush();
  await ackAll(server);
  await flushed;
  assert.deepEqual(server.sent(), ["q1:1"]);
  assert.equal(box.size(), 0);
});

test("a retired queue (another attempt took over the page) sends nothing more", async () => {
  const { box, server, timer } = outbox(new MapStorage());
  box.record("q1", ["A"]);
  box.flush();
  await settle();
  server.last().reject(new NetworkError("down"));
  await settle();
  box.retire();
  timer.fire();
  await box.flush();
  await settle();
  assert.equal(server.calls.length, 1);
  assert.ok(box.has("q1"), "what is stored stays stored");
});
