// The answers the server has not acknowledged yet. An answer is kept in this browser's storage
// before anything is sent, sent oldest first until the server acknowledges it, and kept across a
// reload, a lost network or a server restart. Each question's answers carry a sequence number the
// server applies only if newer than the one it holds, so sending twice is harmless.
//
// No page access here: the storage (localStorage), the sending and the timer are given, so the
// queue runs under node as it runs in the page (tests/js/outbox.test.mjs).

import { ApiError, NetworkError } from "./transport.js";

const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 10000;

/** The storage key of one of an attempt's local records (pending, seq, flags): the page's since the start. */
export function storageKey(name, attemptId) { return "cbt:" + name + ":" + attemptId; }

/** A local record: a plain object, or {} if it is missing, unreadable or not an object. */
export function loadRecord(storage, name, attemptId) {
  let data;
  try { data = JSON.parse(storage.getItem(storageKey(name, attemptId)) || "{}"); } catch (e) { return {}; }
  return data && typeof data === "object" && !Array.isArray(data) ? data : {};
}

/** Writes a local record; a full or refused storage loses only the copy (the queue in memory still sends). */
export function saveRecord(storage, name, attemptId, value) {
  try { storage.setItem(storageKey(name, attemptId), JSON.stringify(value)); } catch (e) { /* see above */ }
}

const isSeq = (v) => Number.isInteger(v) && v >= 0;
const isEntry = (e) => e !== null && typeof e === "object" && Array.isArray(e.answer) &&
  e.answer.every((o) => typeof o === "string") && isSeq(e.seq) && e.seq > 0 && typeof e.at === "number";

/**
 * The queue of one attempt.
 *
 * @param {object} o
 * @param {Storage} o.storage  getItem/setItem, e.g. localStorage
 * @param {*} o.attemptId
 * @param {function(string, {answer: string[], seq: number}): Promise<object>} o.send  one save; resolves with
 *   the server's reply ({seq, remaining_seconds}), rejects with a NetworkError or an ApiError
 * @param {function(): Promise} [o.refreshCsrf]  after a 403, before sending again
 * @param {function(function, number)} [o.setTimer]  setTimeout
 * @param {function(): number} [o.now]  Date.now, for the order of answers
 * @param {function(object)} [o.onAck]  each reply (the page resyncs its clock)
 * @param {function(string)} [o.onSettled]  a question's answer was acknowledged or refused
 * @param {function(Error)} [o.onRefused]  an answer refused for good (not for time): dropped
 * @param {function()} [o.onClosed]  the time is up or the paper closed: the rest waits for the page
 * @param {function()} [o.onIdle]  the end of each flush
 */
export function createOutbox(o) {
  const { storage, attemptId, send } = o;
  const refreshCsrf = o.refreshCsrf || (async () => {});
  const setTimer = o.setTimer || ((fn, ms) => setTimeout(fn, ms));
  const now = o.now || (() => Date.now());
  const noop = () => {};
  const onAck = o.onAck || noop, onSettled = o.onSettled || noop, onRefused = o.onRefused || noop;
  const onClosed = o.onClosed || noop, onIdle = o.onIdle || noop;

  const pending = {}; // question id -> {answer, seq, at}: not yet acknowledged
  const seq = {}; // question id -> the last seq used
  for (const [qid, entry] of Object.entries(loadRecord(storage, "pending", attemptId))) {
    if (isEntry(entry)) pending[qid] = { answer: entry.answer, seq: entry.seq, at: entry.at };
  }
  for (const [qid, n] of Object.entries(loadRecord(storage, "seq", attemptId))) if (isSeq(n)) seq[qid] = n;
  for (const [qid, entry] of Object.entries(pending)) seq[qid] = Math.max(seq[qid] || 0, entry.seq); // never reuse one

  let flushing = false, retired = false, retryTimer = null, retryDelay = FIRST_RETRY_MS;
  const outbox = { attemptId: attemptId, offline: false };

  function persist() {
    saveRecord(storage, "pending", attemptId, pending);
    saveRecord(storage, "seq", attemptId, seq);
  }

  /** The server's saved responses ({qid: {answer, seq}}): what it holds (or newer) leaves the queue. */
  outbox.merge = function (responses) {
    for (const [qid, saved] of Object.entries(responses)) {
      seq[qid] = Math.max(seq[qid] || 0, saved.seq);
      const local = pending[qid];
      if (local && local.seq <= saved.seq) delete pending[qid]; // the server already has it (or newer)
    }
    persist();
  };

  /** Queues a question's new answer under its next seq, stored before anything is sent; the entry. */
  outbox.record = function (qid, answer) {
    seq[qid] = (seq[qid] || 0) + 1;
    pending[qid] = { answer: answer, seq: seq[qid], at: now() };
    persist(); // the answer is safe in this browser before anything is sent
    return pending[qid];
  };

  outbox.has = (qid) => Object.prototype.hasOwnProperty.call(pending, qid);
  outbox.size = () => Object.keys(pending).length;
  /** The answers not yet acknowledged, by question id. */
  outbox.answers = () => Object.fromEntries(Object.entries(pending).map(([qid, e]) => [qid, e.answer]));

  /** Sends the queue, oldest answer first, until it is empty, the network fails or the time is up. */
  outbox.flush = async function () {
    if (flushing || retired) return;
    flushing = true;
    try {
      while (!retired) {
        const entries = Object.entries(pending).sort((a, b) => a[1].at - b[1].at);
        if (!entries.length) break;
        const [qid, entry] = entries[0];
        try {
          const result = await send(qid, { answer: entry.answer, seq: entry.seq });
          outbox.offline = false;
          retryDelay = FIRST_RETRY_MS;
          onAck(result);
          const current = pending[qid];
          if (current && current.seq <= result.seq) delete pending[qid]; // a newer answer given meanwhile stays
          persist();
        } catch (e) {
          if (e instanceof NetworkError || (e instanceof ApiError && e.status >= 500)) {
            // no answer from the server, or it was too busy to give one: keep the answer and try again
            outbox.offline = true;
            scheduleRetry();
            break;
          }
          if (e instanceof ApiError && e.status === 403) { await refreshCsrf(); continue; }
          if (e instanceof ApiError && e.status === 401) break;
          delete pending[qid]; // refused for good (time is up, paper closed, invalid): never retry
          persist();
          if (e.code === "deadline_passed" || e.code === "attempt_closed") { onClosed(); break; }
          onRefused(e);
        }
        onSettled(qid);
      }
    } finally {
      flushing = false;
      onIdle();
    }
  };

  function scheduleRetry() {
    if (retryTimer) return;
    retryTimer = setTimer(() => { retryTimer = null; outbox.flush(); }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, LAST_RETRY_MS);
  }

  /** Another attempt takes over the page: this queue sends nothing more (what is stored stays stored). */
  outbox.retire = function () { retired = true; };

  /** The network is back: try again now, and soon again if that fails. */
  outbox.online = function () { retryDelay = FIRST_RETRY_MS; return outbox.flush(); };

  return outbox;
}
