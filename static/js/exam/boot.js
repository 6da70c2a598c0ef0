// The exam page. The server owns time and truth; this page keeps every answer that the server has
// not yet acknowledged in localStorage and replays it, in order, until it is acknowledged
// (outbox.js). The entry module: the page's state, its start and its event listeners.

import { _ } from "../i18n.js";
import { createClock, formatClock } from "./clock.js";
import { createOutbox, loadRecord, saveRecord } from "./outbox.js";
import {
  LETTERS, answered, banner, bindView, cover, go, markActive, questionsOf, renderCard, renderItem, savedFont,
  setFont, setSaveState, show, updateQuestionState,
} from "./render.js";
import { watchSignals } from "./signals.js";
import { ApiError, NetworkError, api, connect, liveChannel, refreshCsrf, send, whenLoggedOut } from "./transport.js";

const $ = (id) => document.getElementById(id);

const state = {
  status: null,
  attempt: null,
  index: 0, // current item
  active: 0, // active sub-question of a case
  numbers: {}, // question id -> number shown
  answers: {}, // question id -> answer shown (server state merged with local)
  flags: {}, // question id -> true: flagged by the candidate, kept in this browser
  outbox: null, // the current attempt's unacknowledged answers
  statusTimer: null,
  timeUp: false,
  pauseReason: "",
};
const clock = createClock();

bindView(state, choose);
whenLoggedOut((text) => cover(text, true));

async function boot() {
  try {
    const status = await api("GET", "/api/v1/candidate/status");
    sessionStorage.setItem("cbt:csrf", status.csrf_token);
    state.status = status;
    const socket = connect(status.socket_token);
    if (socket) listen(socket);
    const c = status.candidate;
    $("who").textContent = c.name + "  " + c.ticket;
    const current = status.sessions.find((s) => s.part === status.current);
    if (current && current.state !== "not_started") return loadAttempt();
    if (!current) {
      const last = [...status.sessions].reverse().find((s) => s.state === "submitted");
      if (last) return loadAttempt();
      return showIdentity(status, null);
    }
    showIdentity(status, current);
  } catch (e) {
    if (e instanceof NetworkError) { banner(_("网络连接失败，正在重试……")); setTimeout(boot, 3000); }
    else if (!(e instanceof ApiError && e.status === 401)) banner(e.message);
  }
}

function showIdentity(status, session) {
  const c = status.candidate;
  $("photo").src = "/exam/photo";
  $("f-name").textContent = c.name;
  $("f-ticket").textContent = c.ticket;
  $("f-id").textContent = c.id_number;
  $("f-occupation").textContent = c.occupation;
  $("f-level").textContent = _(c.level_name);
  $("f-room").textContent = _("%(room)s / %(seat)s号", { room: c.room, seat: c.seat });
  $("f-part").textContent = session ? _(session.part_name) : "—";
  $("f-duration").textContent = session ? _("%(minutes)s 分钟", { minutes: session.duration_minutes }) : "—";
  show("identity");
  const button = $("start-button");
  if (!session) {
    $("open-info").textContent = status.terminated ? _("您的考试已因违纪被终止，本批次成绩无效。请听从监考员安排。") : _("您已完成全部考试。");
    button.disabled = true;
    return;
  }
  const opensAt = performance.now() + session.opens_in_seconds * 1000;
  // A schedule change reaches the page within a minute; the jitter keeps a room from asking at once.
  clearTimeout(state.statusTimer);
  state.statusTimer = setTimeout(boot, 45000 + Math.random() * 30000);
  function tick() {
    const left = Math.ceil((opensAt - performance.now()) / 1000);
    if (left > 0) {
      $("open-info").textContent = _("距开考还有 %(time)s，开考后“开始考试”按钮自动可用。", { time: formatClock(left) });
      button.disabled = true;
      setTimeout(tick, 250);
    } else {
      $("open-info").textContent = _("考试已开始，请点击“开始考试”。");
      button.disabled = false;
    }
  }
  tick();
}

$("start-button").addEventListener("click", async function () {
  this.disabled = true;
  clearTimeout(state.statusTimer);
  try {
    const view = await send("start", {}, "POST", "/api/v1/candidate/attempt/start");
    showExam(view.paper === undefined ? view : JSON.parse(view.paper));
  } catch (e) {
    banner(e instanceof NetworkError ? _("网络连接失败，请重试") : e.message);
    this.disabled = false;
  }
});

async function loadAttempt() {
  const view = await api("GET", "/api/v1/candidate/attempt");
  if (view.state === "submitted") return showDone(view, view.submit_reason === "deadline");
  showExam(view);
}

function outboxFor(attemptId) {
  return createOutbox({
    storage: localStorage,
    attemptId: attemptId,
    send: (qid, body) => send("save", Object.assign({ question_id: qid }, body),
      "PUT", "/api/v1/candidate/attempt/responses/" + encodeURIComponent(qid), body),
    refreshCsrf: refreshCsrf,
    onAck: (result) => clock.resync(result.remaining_seconds),
    onSettled: updateQuestionState,
    onRefused: (e) => banner(e.message),
    onClosed: onTimeUp,
    onIdle: () => { setSaveState(); renderCard(); },
  });
}

function showExam(view) {
  state.attempt = view;
  state.timeUp = false;
  state.index = 0;
  state.active = 0;
  state.numbers = {};
  clock.resetWarnings();
  if (!state.outbox || state.outbox.attemptId !== view.attempt_id) {
    if (state.outbox) state.outbox.retire();
    state.outbox = outboxFor(view.attempt_id); // what this browser kept of the attempt, e.g. before a reload
  }
  state.flags = {};
  for (const [qid, flagged] of Object.entries(loadRecord(localStorage, "flags", view.attempt_id))) {
    if (flagged === true) state.flags[qid] = true;
  }
  state.answers = {};
  let n = 0;
  for (const item of view.items) {
    for (const q of questionsOf(item)) state.numbers[q.id] = ++n;
  }
  for (const [qid, saved] of Object.entries(view.responses)) state.answers[qid] = saved.answer;
  state.outbox.merge(view.responses);
  Object.assign(state.answers, state.outbox.answers()); // newer, not yet acked
  saveFlags();
  clock.resync(view.remaining_seconds);
  setPaused(view.state === "paused", "");
  show("exam");
  banner("");
  renderCard();
  renderItem();
  setSaveState();
  state.outbox.flush();
}

const saveFlags = () => saveRecord(localStorage, "flags", state.attempt.attempt_id, state.flags);

// ---------------------------------------------------------------- answering
function choose(q, optionId) {
  if (state.timeUp || state.attempt.state === "submitted") return;
  let answer;
  const current = state.answers[q.id] || [];
  if (q.type === "multiple") {
    answer = current.includes(optionId) ? current.filter((o) => o !== optionId) : current.concat([optionId]);
    answer.sort();
  } else {
    answer = [optionId];
  }
  record(q.id, answer);
  renderItem();
}

function record(qid, answer) {
  state.answers[qid] = answer;
  state.outbox.record(qid, answer); // the answer is safe in this browser before anything is sent
  renderCard();
  setSaveState();
  state.outbox.flush();
}

window.addEventListener("online", () => { if (state.outbox) state.outbox.online(); });

// ---------------------------------------------------------------- time
setInterval(tickCountdown, 250);

function tickCountdown() {
  if (!state.attempt || state.attempt.state === "submitted" || $("exam").hidden) return;
  const left = clock.remainingNow();
  if (left === null) return;
  $("countdown").textContent = formatClock(left);
  for (const text of clock.warningsDue(left)) banner(text);
  if (left <= 0 && !state.timeUp) onTimeUp();
}

async function onTimeUp() {
  if (state.timeUp) return;
  state.timeUp = true;
  cover(_("考试时间到，正在交卷……"));
  await state.outbox.flush();
  for (let i = 0; i < 60; i++) {
    try {
      const view = await api("GET", "/api/v1/candidate/attempt");
      if (view.state === "submitted") { cover(""); return showDone(view, true); }
      clock.resync(view.remaining_seconds);
      if (view.remaining_seconds > 0) { state.timeUp = false; cover(""); return; } // time was extended
    } catch (e) { /* keep trying: the server submits on its own */ }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

// ---------------------------------------------------------------- submit
$("submit-button").addEventListener("click", function () {
  const unanswered = [], flagged = [];
  for (const item of state.attempt.items) {
    for (const q of questionsOf(item)) {
      if (!answered(q.id)) unanswered.push(state.numbers[q.id]);
      if (state.flags[q.id]) flagged.push(state.numbers[q.id]);
    }
  }
  const listed = (numbers) => numbers.join(_("、")); // not inside another _(): Babel would not see it
  $("dialog-title").textContent = _("确认交卷");
  const body = $("dialog-body");
  body.innerHTML = "";
  const lines = [
    unanswered.length
      ? _("未答题：第 %(numbers)s 题（共 %(count)s 题）", { numbers: listed(unanswered), count: unanswered.length })
      : _("所有题目均已作答。"),
    flagged.length ? _("已标记题：第 %(numbers)s 题", { numbers: listed(flagged) }) : _("没有标记的题目。"),
    _("交卷后不能再修改答案。确定要交卷吗？"),
  ];
  for (const line of lines) { const p = document.createElement("p"); p.textContent = line; body.appendChild(p); }
  $("dialog").hidden = false;
  $("dialog-ok").focus();
});
$("dialog-cancel").addEventListener("click", () => { $("dialog").hidden = true; });
$("dialog-ok").addEventListener("click", async function () {
  this.disabled = true;
  try {
    await state.outbox.flush();
    if (state.outbox.size()) {
      banner(_("还有 %(count)s 道题的答案尚未保存到服务器，请检查网络后再交卷。", { count: state.outbox.size() }));
      return;
    }
    const result = await send("submit", {}, "POST", "/api/v1/candidate/attempt/submit");
    $("dialog").hidden = true;
    showDone(result, false);
  } catch (e) {
    banner(e instanceof NetworkError ? _("网络连接失败，未能交卷，请重试") : e.message);
  } finally {
    this.disabled = false;
  }
});

async function showDone(result, automatic) {
  state.attempt = Object.assign(state.attempt || {}, { state: "submitted" });
  $("done-reason").textContent = automatic ? _("考试时间到，已自动交卷。") : _("您已成功交卷。");
  const root = document.documentElement; // the centre's clock, whatever the PC's zone
  $("r-time").textContent = new Date(result.submitted_at).toLocaleString(root.lang, { timeZone: root.dataset.timezone });
  const count = result.answered !== undefined ? result.answered :
    Object.values(result.responses || {}).filter((r) => r.answer.length).length;
  $("r-answered").textContent = _("%(count)s 题", { count: count });
  $("r-receipt").textContent = result.receipt;
  show("done");
  const status = await api("GET", "/api/v1/candidate/status");
  state.status = status;
  const session = status.sessions.find((s) => s.receipt === result.receipt);
  const score = session && session.score;
  $("r-score").textContent = !score ? "" : score.passed
    ? _("本场成绩：%(total)s 分（合格）", { total: score.total })
    : _("本场成绩：%(total)s 分（不合格）", { total: score.total });
  $("next-session").hidden = !status.current;
}
$("next-session").addEventListener("click", () => {
  const s = state.status.sessions.find((x) => x.part === state.status.current);
  showIdentity(state.status, s);
});

// ---------------------------------------------------------------- navigation, flags, keyboard, font
$("prev").addEventListener("click", () => go(state.index - 1, 0));
$("next").addEventListener("click", () => go(state.index + 1, 0));
$("flag").addEventListener("click", function () {
  const item = state.attempt.items[state.index];
  const q = questionsOf(item)[state.active] || questionsOf(item)[0];
  if (state.flags[q.id]) delete state.flags[q.id]; else state.flags[q.id] = true;
  saveFlags();
  renderItem();
  renderCard();
});

document.addEventListener("keydown", function (event) {
  if ($("exam").hidden || !$("dialog").hidden || event.ctrlKey || event.metaKey || event.altKey) return;
  const item = state.attempt.items[state.index];
  const questions = questionsOf(item);
  const q = questions[state.active] || questions[0];
  const k = event.key;
  const letter = k.length === 1 ? LETTERS.indexOf(k.toUpperCase()) : -1;
  if (letter >= 0 && letter < q.options.length) {
    event.preventDefault();
    choose(q, q.options[letter].id);
  } else if (k === "ArrowRight" || (k === "Enter" && event.target.tagName !== "BUTTON")) {
    event.preventDefault();
    go(state.index + 1, 0);
  } else if (k === "ArrowLeft") {
    event.preventDefault();
    go(state.index - 1, 0);
  } else if ((k === "ArrowDown" || k === "ArrowUp") && item.type === "case") {
    event.preventDefault();
    state.active = Math.max(0, Math.min(questions.length - 1, state.active + (k === "ArrowDown" ? 1 : -1)));
    markActive();
  }
});

setFont(savedFont());
$("font-up").addEventListener("click", () => setFont(savedFont() + 2));
$("font-down").addEventListener("click", () => setFont(savedFont() - 2));

// ---------------------------------------------------------------- the live channel's events
function listen(socket) {
  socket.on("admitted", () => { if (!$("identity").hidden) boot(); });
  socket.on("started", () => { if (!$("identity").hidden) loadAttempt(); });
  socket.on("time", (data) => {
    clock.resync(data.remaining_seconds);
    clock.resetWarnings();
    banner(_("监考员已调整您的考试时间，请以页面显示的剩余时间为准。"));
    if (state.timeUp && data.remaining_seconds > 0) { state.timeUp = false; cover(""); }
  });
  socket.on("paused", (data) => { clock.resync(data.remaining_seconds); setPaused(true, data.reason); });
  socket.on("resumed", (data) => { clock.resync(data.remaining_seconds); setPaused(false, ""); });
  socket.on("notice", showMessage);
  socket.on("submitted", (data) => { cover(""); banner(said(data)); loadAttempt().catch(() => {}); });
  socket.on("moved", (data) => cover(said(data), true));
}

// A push's message in this page's language: the server sends its message id and parameters
// beside the Chinese text (a room's pages may read different languages).
function said(data) {
  if (data && data.msg && typeof data.msg.id === "string") return _(data.msg.id, data.msg.params || {});
  return (data && data.message) || "";
}

function pausedText(reason) {
  return reason
    ? _("考试已暂停：%(reason)s。计时已停止，请等待监考员恢复考试。", { reason: reason })
    : _("考试已暂停。计时已停止，请等待监考员恢复考试。");
}

function setPaused(paused, reason) {
  if (paused && !clock.paused) { state.pauseReason = reason; cover(pausedText(reason)); }
  if (!paused && clock.paused) cover("");
  clock.setPaused(paused);
  tickCountdown(); // the frozen (or restarted) time shows at once, not at the next tick
}

function showMessage(msg) {
  const el = $("cover");
  el.innerHTML = "";
  const box = document.createElement("div");
  box.className = "message-box";
  const title = document.createElement("h2");
  title.textContent = msg.broadcast ? _("监考员广播") : _("监考员消息");
  const text = document.createElement("p");
  text.textContent = msg.text;
  const ok = document.createElement("button");
  ok.type = "button";
  ok.className = "primary";
  ok.id = "message-ack";
  ok.textContent = _("我已知晓");
  ok.addEventListener("click", () => {
    liveChannel().emit("ack", { message_id: msg.id });
    el.hidden = true;
    if (clock.paused) cover(pausedText(state.pauseReason));
  });
  box.append(title, text, ok);
  el.appendChild(box);
  el.hidden = false;
  ok.focus();
}

watchSignals(liveChannel, () => Boolean(state.attempt) && state.attempt.state !== "submitted");

boot();
