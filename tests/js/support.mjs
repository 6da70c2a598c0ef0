// Stand-ins for the page's storage, timers and server, for the exam modules under node.

/** localStorage over a Map: getItem gives null for a missing key, setItem stores strings. */
export class MapStorage {
  constructor(entries = {}) { this.map = new Map(Object.entries(entries)); }
  getItem(key) { return this.map.has(key) ? this.map.get(key) : null; }
  setItem(key, value) { this.map.set(key, String(value)); }
  removeItem(key) { this.map.delete(key); }
  json(key) { return JSON.parse(this.getItem(key)); }
}

/** setTimeout that runs only when told: fire() runs what is due, in order. */
export class FakeTimer {
  constructor() { this.waiting = []; this.delays = []; }
  set = (fn, ms) => { this.waiting.push(fn); this.delays.push(ms); return this.delays.length; };
  fire() { const due = this.waiting; this.waiting = []; for (const fn of due) fn(); }
}

/** A server whose every reply the test gives, one call at a time. */
export class FakeServer {
  constructor() { this.calls = []; }
  send = (qid, body) => new Promise((resolve, reject) => {
    this.calls.push({ qid, answer: body.answer, seq: body.seq, resolve, reject });
  });
  /** The seq sent per call, e.g. ["q1:1", "q2:1"]. */
  sent() { return this.calls.map((c) => c.qid + ":" + c.seq); }
  last() { return this.calls[this.calls.length - 1]; }
}

/** Lets pending promise callbacks run (the outbox awaits between steps). */
export const settle = () => new Promise((resolve) => setImmediate(resolve));
