// The exam page. The server owns time and truth; this page keeps every answer that the server has
// not yet acknowledged in localStorage and replays it, in order, until it is acknowledged.
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const WARNINGS = [[900, "距离考试结束还有 15 分钟，请注意掌握时间。"], [300, "距离考试结束还有 5 分钟，请尽快检查并交卷。"]];
  const LETTERS = "ABCDEFGH";

  const state = {
    status: null,
    attempt: null,
    index: 0, // current item
    active: 0, // active sub-question of a case
    numbers: {}, // question id -> number shown
    answers: {}, // question id -> answer shown (server state merged with local)
    pending: {}, // question id -> {answer, seq, at}: not yet acknowledged
    seq: {}, // question id -> last seq used
    flags: {},
    remaining: null,
    receivedAt: 0,
    warned: {},
    flushing: false,
    statusTimer: null,
    retryTimer: null,
    retryDelay: 1000,
    offline: false,
    timeUp: false,
    paused: false,
    socket: null,
  };

  // ---------------------------------------------------------------- API
  class ApiError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }
  class NetworkError extends Error {}

  async function api(method, path, body) {
    const headers = { "X-CSRF-Token": sessionStorage.getItem("cbt:csrf") || "" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method: method, headers: headers, credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
      });
    } catch (e) {
      throw new NetworkError(String(e));
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      if (response.status === 401) throw loggedOut(data);
      throw new ApiError(response.status, data.error, data.message || "请求失败");
    }
    return data;
  }

  // 开始考试, each answer and 交卷 go over the live channel while it is up: the same answers as the
  // HTTP API at about half the server's work (a start storm is every candidate of a session at the
  // same second). Over HTTP when the channel is down, or gives no answer in time: each of the three
  // is safe to repeat (an answer carries its sequence number).
  const LIVE_TIMEOUT_MS = 20000;
  function send(event, data, method, path, body) {
    const socket = state.socket;
    if (!socket || !socket.connected) return api(method, path, body);
    return new Promise((resolve, reject) => {
      socket.timeout(LIVE_TIMEOUT_MS).emit(event, data, (err, res) => {
        if (err) return api(method, path, body).then(resolve, reject);
        if (res && res.error) {
          return reject(res.status === 401 ? loggedOut(res) : new ApiError(res.status || 400, res.error, res.message || "请求失败"));
        }
        resolve(res);
      });
    });
  }

  function loggedOut(data) { // covers the page; the error to throw
    cover((data && data.message) || "登录已失效，请重新登录。", true);
    return new ApiError(401, data && data.error, data && data.message);
  }

  // ---------------------------------------------------------------- local storage
  const key = (name) => "cbt:" + name + ":" + state.attempt.attempt_id;
  function loadLocal(name) {
    try { return JSON.parse(localStorage.getItem(key(name)) || "{}"); } catch (e) { return {}; }
  }
  function persist() {
    localStorage.setItem(key("pending"), JSON.stringify(state.pending));
    localStorage.setItem(key("seq"), JSON.stringify(state.seq));
    localStorage.setItem(key("flags"), JSON.stringify(state.flags));
  }

  // ---------------------------------------------------------------- views
  function show(section) {
    for (const id of ["identity", "exam", "done"]) $(id).hidden = id !== section;
    $("toolbar").hidden = section !== "exam";
  }

  function banner(text) {
    const el = $("banner");
    el.textContent = text;
    el.hidden = !text;
  }

  function cover(text, relogin) {
    const el = $("cover");
    el.innerHTML = "";
    const p = document.createElement("p");
    p.textContent = text;
    el.appendChild(p);
    if (relogin) {
      const a = document.createElement("a");
      a.href = "/";
      a.textContent = "返回登录";
      a.className = "button primary";
      el.appendChild(a);
    }
    el.hidden = !text;
  }

  async function boot() {
    try {
      const status = await api("GET", "/api/v1/candidate/status");
      sessionStorage.setItem("cbt:csrf", status.csrf_token);
      state.status = status;
      connectSocket(status.socket_token);
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
      if (e instanceof NetworkError) { banner("网络连接失败，正在重试……"); setTimeout(boot, 3000); }
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
    $("f-level").textContent = c.level_name;
    $("f-room").textContent = c.room + " / " + c.seat + "号";
    $("f-part").textContent = session ? session.part_name : "—";
    $("f-duration").textContent = session ? session.duration_minutes + " 分钟" : "—";
    show("identity");
    const button = $("start-button");
    if (!session) {
      $("open-info").textContent = status.terminated ? "您的考试已因违纪被终止，本批次成绩无效。请听从监考员安排。" : "您已完成全部考试。";
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
        $("open-info").textContent = "距开考还有 " + clock(left) + "，开考后“开始考试”按钮自动可用。";
        button.disabled = true;
        setTimeout(tick, 250);
      } else {
        $("open-info").textContent = "考试已开始，请点击“开始考试”。";
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
      banner(e instanceof NetworkError ? "网络连接失败，请重试" : e.message);
      this.disabled = false;
    }
  });

  async function loadAttempt() {
    const view = await api("GET", "/api/v1/candidate/attempt");
    if (view.state === "submitted") return showDone(view, view.submit_reason === "deadline");
    showExam(view);
  }

  function showExam(view) {
    state.attempt = view;
    state.timeUp = false;
    state.index = 0;
    state.active = 0;
    state.numbers = {};
    state.warned = {};
    state.pending = loadLocal("pending");
    state.seq = loadLocal("seq");
    state.flags = loadLocal("flags");
    state.answers = {};
    let n = 0;
    for (const item of view.items) {
      for (const q of questionsOf(item)) state.numbers[q.id] = ++n;
    }
    for (const [qid, saved] of Object.entries(view.responses)) {
      state.answers[qid] = saved.answer;
      state.seq[qid] = Math.max(state.seq[qid] || 0, saved.seq);
      const local = state.pending[qid];
      if (local && local.seq <= saved.seq) delete state.pending[qid]; // the server already has it (or newer)
    }
    for (const [qid, local] of Object.entries(state.pending)) state.answers[qid] = local.answer; // newer, not yet acked
    persist();
    resync(view.remaining_seconds);
    setPaused(view.state === "paused", "");
    show("exam");
    banner("");
    renderCard();
    renderItem();
    setSaveState();
    flush();
  }

  function questionsOf(item) { return item.type === "case" ? item.questions : [item]; }

  // ---------------------------------------------------------------- rendering
  function renderCard() {
    const card = $("card");
    card.innerHTML = "";
    state.attempt.items.forEach((item, index) => {
      questionsOf(item).forEach((q, sub) => {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = state.numbers[q.id];
        b.dataset.qid = q.id;
        b.className = "q" + (answered(q.id) ? " answered" : "") + (state.flags[q.id] ? " flagged" : "") +
          (index === state.index && (item.type !== "case" || sub === state.active) ? " current" : "") +
          (state.pending[q.id] ? " pending" : "");
        b.setAttribute("aria-label", "第" + state.numbers[q.id] + "题，" + (answered(q.id) ? "已答" : "未答") +
          (state.flags[q.id] ? "，已标记" : ""));
        b.addEventListener("click", () => go(index, sub));
        card.appendChild(b);
      });
    });
  }

  function answered(qid) { return (state.answers[qid] || []).length > 0; }

  function renderItem() {
    const item = state.attempt.items[state.index];
    const el = $("item");
    el.innerHTML = "";
    el.className = "item" + (item.type === "case" ? " case" : "");
    if (item.type === "case") {
      const scenario = document.createElement("section");
      scenario.className = "scenario";
      scenario.setAttribute("aria-label", "案例材料");
      scenario.innerHTML = "<h2>案例分析（" + item.points + "分）</h2>" + item.stem;
      el.appendChild(scenario);
      const list = document.createElement("div");
      list.className = "sub-questions";
      item.questions.forEach((q, sub) => list.appendChild(renderQuestion(q, sub)));
      el.appendChild(list);
    } else {
      el.appendChild(renderQuestion(item, 0));
    }
    const q = questionsOf(item)[state.active] || questionsOf(item)[0];
    $("flag").setAttribute("aria-pressed", state.flags[q.id] ? "true" : "false");
    $("flag").textContent = state.flags[q.id] ? "取消标记" : "标记";
    $("prev").disabled = state.index === 0;
    $("next").disabled = state.index === state.attempt.items.length - 1;
  }

  function renderQuestion(q, sub) {
    const box = document.createElement("fieldset");
    box.className = "question" + (sub === state.active ? " active" : "");
    box.dataset.qid = q.id;
    const head = document.createElement("div"); // not a <legend>: long stems wrap badly inside the border
    head.className = "q-head";
    head.id = "qh-" + q.id;
    head.innerHTML = "<span class=\"qno\">" + state.numbers[q.id] + ".</span> <span class=\"qtype\">[" + q.type_name +
      "，" + q.points + "分]</span> ";
    const stem = document.createElement("div");
    stem.className = "stem";
    stem.innerHTML = q.stem;
    head.appendChild(stem);
    box.setAttribute("aria-labelledby", head.id);
    box.appendChild(head);
    const chosen = state.answers[q.id] || [];
    q.options.forEach((option, i) => {
      const label = document.createElement("label");
      label.className = "option";
      const input = document.createElement("input");
      input.type = q.type === "multiple" ? "checkbox" : "radio";
      input.name = "q-" + q.id;
      input.value = option.id;
      input.checked = chosen.includes(option.id);
      input.addEventListener("change", () => { state.active = sub; choose(q, option.id); });
      input.addEventListener("focus", () => { state.active = sub; });
      label.appendChild(input);
      const letter = document.createElement("span");
      letter.className = "letter";
      letter.textContent = q.type === "judge" ? "" : LETTERS[i] + ".";
      label.appendChild(letter);
      const text = document.createElement("span");
      text.innerHTML = option.text;
      label.appendChild(text);
      box.appendChild(label);
    });
    const saved = document.createElement("p");
    saved.className = "q-state";
    saved.id = "state-" + q.id;
    saved.textContent = questionState(q.id);
    box.appendChild(saved);
    box.addEventListener("click", () => { if (state.active !== sub) { state.active = sub; markActive(); } });
    return box;
  }

  function markActive() {
    document.querySelectorAll(".question").forEach((el, i) => el.classList.toggle("active", i === state.active));
    renderCard();
  }

  function questionState(qid) {
    if (state.pending[qid]) return state.offline ? "网络中断，答案已暂存本机" : "正在保存";
    return answered(qid) ? "已保存" : "";
  }

  function go(index, sub) {
    if (index < 0 || index >= state.attempt.items.length) return;
    state.index = index;
    state.active = sub || 0;
    renderItem();
    renderCard();
    const first = $("item").querySelector(".question.active input") || $("item").querySelector("input");
    if (first) first.focus({ preventScroll: false });
  }

  // ---------------------------------------------------------------- answering and saving
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
    state.seq[qid] = (state.seq[qid] || 0) + 1;
    state.pending[qid] = { answer: answer, seq: state.seq[qid], at: Date.now() };
    persist(); // the answer is safe in this browser before anything is sent
    renderCard();
    setSaveState();
    flush();
  }

  async function flush() {
    if (state.flushing) return;
    state.flushing = true;
    try {
      for (;;) {
        const entries = Object.entries(state.pending).sort((a, b) => a[1].at - b[1].at);
        if (!entries.length) break;
        const [qid, entry] = entries[0];
        try {
          const body = { answer: entry.answer, seq: entry.seq };
          const result = await send("save", Object.assign({ question_id: qid }, body),
            "PUT", "/api/v1/candidate/attempt/responses/" + encodeURIComponent(qid), body);
          state.offline = false;
          state.retryDelay = 1000;
          resync(result.remaining_seconds);
          const now = state.pending[qid];
          if (now && now.seq <= result.seq) delete state.pending[qid];
          persist();
        } catch (e) {
          if (e instanceof NetworkError || (e instanceof ApiError && e.status >= 500)) {
            // no answer from the server, or it was too busy to give one: keep the answer and try again
            state.offline = true;
            scheduleRetry();
            break;
          }
          if (e instanceof ApiError && e.status === 403) { await refreshCsrf(); continue; }
          if (e instanceof ApiError && e.status === 401) break;
          delete state.pending[qid]; // refused for good (time is up, paper closed, invalid): never retry
          persist();
          if (e.code === "deadline_passed" || e.code === "attempt_closed") { onTimeUp(); break; }
          banner(e.message);
        }
        updateQuestionState(qid);
      }
    } finally {
      state.flushing = false;
      setSaveState();
      renderCard();
    }
  }

  async function refreshCsrf() {
    const status = await api("GET", "/api/v1/candidate/status");
    sessionStorage.setItem("cbt:csrf", status.csrf_token);
  }

  function scheduleRetry() {
    if (state.retryTimer) return;
    state.retryTimer = setTimeout(() => { state.retryTimer = null; flush(); }, state.retryDelay);
    state.retryDelay = Math.min(state.retryDelay * 2, 10000);
  }

  window.addEventListener("online", () => { state.retryDelay = 1000; flush(); });

  function updateQuestionState(qid) {
    const el = document.getElementById("state-" + qid);
    if (el) el.textContent = questionState(qid);
  }

  function setSaveState() {
    const count = Object.keys(state.pending).length;
    const el = $("save-state");
    if (!count) { el.textContent = "已保存"; el.className = "save-state saved"; }
    else if (state.offline) { el.textContent = "网络中断，答案已暂存本机（" + count + "）"; el.className = "save-state offline"; }
    else { el.textContent = "正在保存"; el.className = "save-state saving"; }
    document.querySelectorAll(".q-state").forEach((p) => { p.textContent = questionState(p.id.slice(6)); });
  }

  // ---------------------------------------------------------------- time
  function resync(remaining) {
    if (typeof remaining !== "number") return;
    state.remaining = remaining;
    state.receivedAt = performance.now();
  }

  function remainingNow() {
    if (state.remaining === null) return null;
    if (state.paused) return state.remaining; // the server's clock stands still while paused
    return Math.max(0, state.remaining - (performance.now() - state.receivedAt) / 1000);
  }

  function clock(seconds) {
    seconds = Math.max(0, Math.ceil(seconds));
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return [h, m, s].map((v) => String(v).padStart(2, "0")).join(":");
  }

  setInterval(tickCountdown, 250);

  function tickCountdown() {
    if (!state.attempt || state.attempt.state === "submitted" || $("exam").hidden) return;
    const left = remainingNow();
    if (left === null) return;
    $("countdown").textContent = clock(left);
    for (const [at, text] of WARNINGS) {
      if (left <= at && left > at - 60 && !state.warned[at]) { state.warned[at] = true; banner(text); }
    }
    if (left <= 0 && !state.timeUp) onTimeUp();
  }

  async function onTimeUp() {
    if (state.timeUp) return;
    state.timeUp = true;
    cover("考试时间到，正在交卷……");
    await flush();
    for (let i = 0; i < 60; i++) {
      try {
        const view = await api("GET", "/api/v1/candidate/attempt");
        if (view.state === "submitted") { cover(""); return showDone(view, true); }
        resync(view.remaining_seconds);
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
    $("dialog-title").textContent = "确认交卷";
    const body = $("dialog-body");
    body.innerHTML = "";
    const lines = [
      unanswered.length ? "未答题：第 " + unanswered.join("、") + " 题（共 " + unanswered.length + " 题）" : "所有题目均已作答。",
      flagged.length ? "已标记题：第 " + flagged.join("、") + " 题" : "没有标记的题目。",
      "交卷后不能再修改答案。确定要交卷吗？",
    ];
    for (const line of lines) { const p = document.createElement("p"); p.textContent = line; body.appendChild(p); }
    $("dialog").hidden = false;
    $("dialog-ok").focus();
  });
  $("dialog-cancel").addEventListener("click", () => { $("dialog").hidden = true; });
  $("dialog-ok").addEventListener("click", async function () {
    this.disabled = true;
    try {
      await flush();
      if (Object.keys(state.pending).length) {
        banner("还有 " + Object.keys(state.pending).length + " 道题的答案尚未保存到服务器，请检查网络后再交卷。");
        return;
      }
      const result = await send("submit", {}, "POST", "/api/v1/candidate/attempt/submit");
      $("dialog").hidden = true;
      showDone(result, false);
    } catch (e) {
      banner(e instanceof NetworkError ? "网络连接失败，未能交卷，请重试" : e.message);
    } finally {
      this.disabled = false;
    }
  });

  async function showDone(result, automatic) {
    state.attempt = Object.assign(state.attempt || {}, { state: "submitted" });
    $("done-reason").textContent = automatic ? "考试时间到，已自动交卷。" : "您已成功交卷。";
    $("r-time").textContent = new Date(result.submitted_at).toLocaleString("zh-CN");
    $("r-answered").textContent = (result.answered !== undefined ? result.answered :
      Object.values(result.responses || {}).filter((r) => r.answer.length).length) + " 题";
    $("r-receipt").textContent = result.receipt;
    show("done");
    const status = await api("GET", "/api/v1/candidate/status");
    state.status = status;
    const session = status.sessions.find((s) => s.receipt === result.receipt);
    $("r-score").textContent = session && session.score ? "本场成绩：" + session.score.total + " 分（" +
      (session.score.passed ? "合格" : "不合格") + "）" : "";
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
    persist();
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

  function setFont(px) {
    px = Math.max(14, Math.min(28, px));
    document.documentElement.style.setProperty("--exam-font", px + "px");
    localStorage.setItem("cbt:font", String(px));
  }
  setFont(Number(localStorage.getItem("cbt:font")) || 18);
  $("font-up").addEventListener("click", () => setFont((Number(localStorage.getItem("cbt:font")) || 18) + 2));
  $("font-down").addEventListener("click", () => setFont((Number(localStorage.getItem("cbt:font")) || 18) - 2));

  // ---------------------------------------------------------------- live channel (Socket.IO)
  function connectSocket(token) {
    if (state.socket || typeof io === "undefined") return;
    const socket = io("/exam", { auth: (cb) => cb({ token: token }), transports: ["websocket", "polling"] });
    state.socket = socket;
    socket.on("admitted", () => { if (!$("identity").hidden) boot(); });
    socket.on("started", () => { if (!$("identity").hidden) loadAttempt(); });
    socket.on("time", (data) => {
      resync(data.remaining_seconds);
      state.warned = {};
      banner("监考员已调整您的考试时间，请以页面显示的剩余时间为准。");
      if (state.timeUp && data.remaining_seconds > 0) { state.timeUp = false; cover(""); }
    });
    socket.on("paused", (data) => { resync(data.remaining_seconds); setPaused(true, data.reason); });
    socket.on("resumed", (data) => { resync(data.remaining_seconds); setPaused(false, ""); });
    socket.on("notice", showMessage);
    socket.on("submitted", (data) => { cover(""); banner(data.message || ""); loadAttempt().catch(() => {}); });
    socket.on("moved", (data) => cover(data.message, true));
    socket.on("connect_error", () => {});
    // whether the live channel is up, on the page for kiosk diagnostics and tests
    socket.on("connect", () => { document.body.dataset.live = "up"; });
    socket.on("disconnect", () => { document.body.dataset.live = "down"; });
  }

  function pausedText(reason) {
    return "考试已暂停" + (reason ? "：" + reason : "") + "。计时已停止，请等待监考员恢复考试。";
  }

  function setPaused(paused, reason) {
    if (paused && !state.paused) { state.pauseReason = reason; cover(pausedText(reason)); }
    if (!paused && state.paused) cover("");
    state.paused = paused;
    if (!paused) state.receivedAt = performance.now();
    tickCountdown(); // the frozen (or restarted) time shows at once, not at the next tick
  }

  function showMessage(msg) {
    const el = $("cover");
    el.innerHTML = "";
    const box = document.createElement("div");
    box.className = "message-box";
    const title = document.createElement("h2");
    title.textContent = msg.broadcast ? "监考员广播" : "监考员消息";
    const text = document.createElement("p");
    text.textContent = msg.text;
    const ok = document.createElement("button");
    ok.type = "button";
    ok.className = "primary";
    ok.id = "message-ack";
    ok.textContent = "我已知晓";
    ok.addEventListener("click", () => {
      state.socket.emit("ack", { message_id: msg.id });
      el.hidden = true;
      if (state.paused) cover(pausedText(state.pauseReason));
    });
    box.append(title, text, ok);
    el.appendChild(box);
    el.hidden = false;
    ok.focus();
  }

  // ---------------------------------------------------------------- signals for the proctor
  // Evidence for a person to look at, never a penalty: the server records them as incidents.
  function signal(kind, seconds) {
    if (!state.socket || $("exam").hidden || !state.attempt || state.attempt.state === "submitted") return;
    state.socket.emit("signal", seconds === undefined ? { kind: kind } : { kind: kind, seconds: seconds });
  }
  let hiddenAt = null, blurAt = null;
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) hiddenAt = performance.now();
    else if (hiddenAt !== null) { signal("tab_hidden", (performance.now() - hiddenAt) / 1000); hiddenAt = null; }
  });
  window.addEventListener("blur", () => { blurAt = performance.now(); });
  window.addEventListener("focus", () => {
    if (blurAt !== null && !document.hidden) signal("window_blur", (performance.now() - blurAt) / 1000);
    blurAt = null;
  });
  document.addEventListener("fullscreenchange", () => { if (!document.fullscreenElement) signal("fullscreen_exit"); });
  for (const kind of ["copy", "paste", "contextmenu"]) {
    document.addEventListener(kind, (event) => {
      if ($("exam").hidden) return;
      event.preventDefault();
      signal(kind);
    });
  }

  boot();
})();
