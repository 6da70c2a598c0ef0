// The proctor's live room dashboard. The server is the truth: a snapshot on (re)connect, then
// coalesced tile updates and room events; actions go over HTTP and come back as events.

import { _ } from "./i18n.js";
import { PART_NAMES, TILE_STATES } from "./states.js";

const $ = (id) => document.getElementById(id);
const app = $("app");
const roomId = Number(app.dataset.room);
const canAct = app.dataset.act === "1";
const tiles = new Map();
let view = null;
let selected = null;

const socket = io("/monitor", { auth: { token: app.dataset.token, lang: document.documentElement.lang }, transports: ["websocket", "polling"] });
socket.on("connect", () => {
  $("live").textContent = _("实时连接");
  socket.emit("watch", { room_id: roomId }, (reply) => {
    if (reply.error) { $("error").textContent = reply.message || reply.error; return; }
    render(reply.snapshot);
  });
});
socket.on("disconnect", () => { $("live").textContent = _("连接中断，正在重连"); });
socket.on("connect_error", (err) => { $("live").textContent = _("无法连接：%(reason)s", { reason: (err && err.data && err.data.message) || err.message }); });
socket.on("tiles", (data) => {
  if (view && data.session.id !== view.session.id) return refresh(); // the room moved on to the next session
  for (const t of data.tiles) tiles.set(t.candidate_id, t);
  if (view && data.staffing) view.staffing = data.staffing;
  renderTiles(); renderSummary();
});
socket.on("event", (entry) => { addEvent(entry, true); });

function render(snapshot) {
  view = snapshot;
  tiles.clear();
  for (const t of snapshot.tiles) tiles.set(t.candidate_id, t);
  $("room-title").textContent = snapshot.room.name + " · " + _(PART_NAMES[snapshot.session.part]);
  const link = $("record-link");
  if (link) link.href = "/proctor/rooms/" + roomId + "/record?session=" + snapshot.session.id;
  $("events").innerHTML = "";
  for (const e of snapshot.events.slice().reverse()) addEvent(e, false);
  showOlder(snapshot.events, snapshot.events_more);
  renderTiles(); renderSummary(); renderPending();
}

// The record holds every event of the session: the newest page comes with the snapshot, older
// pages on request.
let oldest = null;
function showOlder(events, more) {
  if (events.length) oldest = events[events.length - 1].id;
  $("older-events").hidden = !more;
}
$("older-events").addEventListener("click", async () => {
  const url = "/api/v1/proctor/rooms/" + roomId + "/events?session=" + view.session.id + "&before=" + oldest;
  const response = await fetch(url, { credentials: "same-origin" });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) { $("error").textContent = data.message || _("加载失败"); return; }
  for (const e of data.events) addEvent(e, false, true);
  showOlder(data.events, data.more);
});

function renderSummary() {
  if (!view) return;
  const s = { total: tiles.size, incidents: 0 };
  for (const state of Object.keys(TILE_STATES)) s[state] = 0;
  for (const t of tiles.values()) { s[t.state] += 1; s.incidents += t.incidents; }
  $("summary").textContent = _("应考 %(total)s　未登录 %(absent)s　待入场 %(waiting)s　答题中 %(in_progress)s　已暂停 %(paused)s　离线 %(offline)s　已交卷 %(submitted)s　异常 %(incidents)s", {
    total: s.total, absent: s.absent, waiting: s.waiting + s.admitted, in_progress: s.in_progress, paused: s.paused,
    offline: s.offline, submitted: s.submitted, incidents: s.incidents,
  });
  const st = view.staffing;
  $("staffing").textContent = st.ok
    ? _("监考员在岗 %(present)s / 应配 %(required)s", { present: st.present, required: st.required })
    : _("监考员在岗 %(present)s / 应配 %(required)s　⚠ 监考员不足（每 15 名考生 1 名，每考场至少 2 名）", { present: st.present, required: st.required });
  $("staffing").className = "staffing" + (st.ok ? "" : " short");
}

function clock(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const m = Math.floor(seconds / 60), s = seconds % 60;
  return m + ":" + String(s).padStart(2, "0");
}

function renderTiles() {
  const box = $("tiles");
  box.innerHTML = "";
  const list = [...tiles.values()].sort((a, b) => a.seat.localeCompare(b.seat));
  for (const t of list) {
    const el = document.createElement("button");
    el.type = "button";
    el.className = "tile state-" + t.state + (selected === t.candidate_id ? " selected" : "");
    el.dataset.candidate = t.candidate_id;
    el.innerHTML = "<span class=\"seat\"></span><span class=\"name\"></span><span class=\"ticket\"></span>" +
      "<span class=\"state\"></span><span class=\"progress\"></span><span class=\"time\"></span><span class=\"badge\"></span>";
    el.querySelector(".seat").textContent = _("%(seat)s号", { seat: t.seat });
    el.querySelector(".name").textContent = t.name;
    el.querySelector(".ticket").textContent = t.ticket;
    el.querySelector(".state").textContent = _(t.state_name);
    el.querySelector(".progress").textContent = t.total ? _("已答 %(answered)s/%(total)s", { answered: t.answered, total: t.total }) : "";
    el.querySelector(".time").textContent = t.remaining_seconds !== null ? _("剩余 %(time)s", { time: clock(t.remaining_seconds) }) : "";
    el.querySelector(".badge").textContent = t.incidents ? "⚠ " + t.incidents : "";
    const who = { seat: t.seat, name: t.name, state: _(t.state_name), incidents: t.incidents };
    el.setAttribute("aria-label", t.incidents ? _("%(seat)s号 %(name)s %(state)s，异常 %(incidents)s", who) : _("%(seat)s号 %(name)s %(state)s", who));
    el.addEventListener("click", () => select(t.candidate_id));
    box.appendChild(el);
  }
}

function addEvent(e, live, older) {
  const li = document.createElement("li");
  li.dataset.kind = e.kind.startsWith("action:") || ["admit", "start", "pause", "resume", "extend", "message", "force_submit",
    "terminate", "terminate_request", "move", "unlock", "record", "sign"].includes(e.kind) ? "action" : "incident";
  const root = document.documentElement; // times on the centre's clock, whatever the PC's zone
  const at = new Date(e.at).toLocaleTimeString(root.lang, { hour12: false, timeZone: root.dataset.timezone });
  const said = e.msg && typeof e.msg.id === "string" ? _(e.msg.id, e.msg.params || {}) : _(e.text);
  const parts = { time: at, seat: e.seat, name: e.name || "", text: said, by: e.by };
  if (e.seat) li.textContent = e.by ? _("%(time)s　%(seat)s号 %(name)s　%(text)s（%(by)s）", parts) : _("%(time)s　%(seat)s号 %(name)s　%(text)s", parts);
  else li.textContent = e.by ? _("%(time)s　%(text)s（%(by)s）", parts) : _("%(time)s　%(text)s", parts);
  const filter = $("event-filter").value;
  li.hidden = filter && li.dataset.kind !== filter;
  if (older) $("events").append(li); else $("events").prepend(li);
  if (live && ["terminate_request", "terminate", "sign"].includes(e.kind)) refresh();
}
$("event-filter").addEventListener("change", function () {
  for (const li of $("events").children) li.hidden = this.value && li.dataset.kind !== this.value;
});

function renderPending() {
  const box = $("pending");
  box.innerHTML = "";
  for (const p of view.pending_terminations || []) {
    const div = document.createElement("div");
    div.className = "banner";
    div.textContent = _("违纪终止申请（%(by)s）：%(reason)s　", { by: p.requested_by, reason: p.reason });
    if (canAct) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "danger";
      b.textContent = _("确认终止");
      b.addEventListener("click", () => act("terminations/" + p.id + "/confirm", {}));
      div.appendChild(b);
    }
    box.appendChild(div);
  }
  if (view.record && view.record.signed) {
    const div = document.createElement("div");
    div.className = "hint";
    const names = view.record.signatures.map((s) => s.name).join(_("、")); // not inside another _(): Babel would not see it
    div.textContent = _("考场记录已签字：%(names)s", { names: names });
    box.appendChild(div);
  }
}

function refresh() {
  socket.emit("watch", { room_id: roomId, session_id: view && view.session.id }, (reply) => { if (reply.snapshot) render(reply.snapshot); });
}

function select(candidateId) {
  selected = candidateId;
  renderTiles();
  if (!canAct) return;
  const t = tiles.get(candidateId);
  $("panel-title").textContent = _("%(seat)s号 %(name)s（%(ticket)s）%(state)s", { seat: t.seat, name: t.name, ticket: t.ticket, state: _(t.state_name) });
  $("panel").hidden = false;
}

async function act(path, body) {
  $("error").textContent = $("notice").textContent = "";
  const response = await fetch("/api/v1/proctor/rooms/" + roomId + "/" + path, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": app.dataset.csrf },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) $("error").textContent = data.message || _("操作失败");
  return data;
}

function ask(text) {
  const value = window.prompt(text);
  return value === null ? null : value.trim();
}

const handlers = {
  admit: (c) => act("admit", { candidate_id: c }),
  start: () => confirm(_("确认统一开考？已登录的考生将同时开始计时。")) && act("start", {}),
  pause: (c) => { const r = ask(_("暂停原因")); return r && act("pause", { candidate_id: c, reason: r }); },
  resume: (c) => act("resume", { candidate_id: c }),
  extend: (c) => {
    const m = ask(_("延长多少分钟？")); if (!m) return;
    const r = ask(_("延长原因")); return r && act("extend", { candidate_id: c, minutes: Number(m), reason: r });
  },
  message: (c) => { const t = ask(c ? _("发送给该考生的消息") : _("广播给全场考生的消息")); return t && act("message", { candidate_id: c, text: t }); },
  move: (c) => {
    const s = ask(_("新座位号")); if (!s) return;
    const r = ask(_("换机原因")); return r && act("move", { candidate_id: c, seat: s, reason: r });
  },
  record: (c) => {
    const cat = ask(_("类别（身份核验、考生违纪、设备故障、网络故障、其他）")); if (!cat) return;
    const t = ask(_("记录内容")); return t && act("incidents", { candidate_id: c, category: cat, text: t, session_id: view.session.id });
  },
  unlock: async (c) => {
    if (!confirm(_("已核对该考生的准考证和身份证，解除其登录锁定？"))) return;
    const data = await act("unlock", { candidate_id: c });
    if (data.status === "ok") $("notice").textContent = data.was_locked ? _("已解除登录锁定，考生可重新登录") : _("该考生未被锁定");
  },
  submit: (c) => { const r = ask(_("强制交卷原因")); return r && act("submit", { candidate_id: c, reason: r }); },
  terminate: (c) => { const r = ask(_("违纪终止原因（需另一名监考员确认）")); return r && act("terminations", { candidate_id: c, reason: r }); },
  sign: () => confirm(_("签署后考场记录不可修改，确认签署？")) && act("sign", { session_id: view.session.id }),
};
document.querySelectorAll("[data-room-action]").forEach((b) =>
  b.addEventListener("click", () => handlers[b.dataset.roomAction](null)));
document.querySelectorAll("[data-action]").forEach((b) =>
  b.addEventListener("click", () => selected && handlers[b.dataset.action](selected)));
const close = $("panel-close");
if (close) close.addEventListener("click", () => { $("panel").hidden = true; selected = null; renderTiles(); });
setInterval(() => {  // remaining time ticks between updates
  for (const t of tiles.values()) if (t.state === "in_progress" && t.remaining_seconds > 0) t.remaining_seconds -= 1;
  if (view) renderTiles();
}, 1000);
