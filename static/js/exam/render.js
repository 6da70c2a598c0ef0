// What the candidate sees of the paper: the answer card, the current item and its questions, the
// save state, navigation and the font size; and the page's banner and cover.

import { _ } from "../i18n.js";

const $ = (id) => document.getElementById(id);
export const LETTERS = "ABCDEFGH";

let state = null; // the page's state (boot.js)
let onChoose = () => {};

/** Gives this module the page's state and what to do when an option is chosen: (question, option id). */
export function bindView(pageState, choose) {
  state = pageState;
  onChoose = choose;
}

export function questionsOf(item) { return item.type === "case" ? item.questions : [item]; }

export function answered(qid) { return (state.answers[qid] || []).length > 0; }

const isPending = (qid) => Boolean(state.outbox && state.outbox.has(qid));
const isOffline = () => Boolean(state.outbox && state.outbox.offline);

// ---------------------------------------------------------------- page sections, banner, cover
export function show(section) {
  for (const id of ["identity", "exam", "done"]) $(id).hidden = id !== section;
  $("toolbar").hidden = section !== "exam";
}

export function banner(text) {
  const el = $("banner");
  el.textContent = text;
  el.hidden = !text;
}

export function cover(text, relogin) {
  const el = $("cover");
  el.innerHTML = "";
  const p = document.createElement("p");
  p.textContent = text;
  el.appendChild(p);
  if (relogin) {
    const a = document.createElement("a");
    a.href = "/";
    a.textContent = _("返回登录");
    a.className = "button primary";
    el.appendChild(a);
  }
  el.hidden = !text;
}

// ---------------------------------------------------------------- the answer card and the item
function cardLabel(qid) {
  const number = state.numbers[qid];
  if (answered(qid)) {
    return state.flags[qid] ? _("第%(number)s题，已答，已标记", { number: number }) : _("第%(number)s题，已答", { number: number });
  }
  return state.flags[qid] ? _("第%(number)s题，未答，已标记", { number: number }) : _("第%(number)s题，未答", { number: number });
}

export function renderCard() {
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
        (isPending(q.id) ? " pending" : "");
      b.setAttribute("aria-label", cardLabel(q.id));
      b.addEventListener("click", () => go(index, sub));
      card.appendChild(b);
    });
  });
}

export function renderItem() {
  const item = state.attempt.items[state.index];
  const el = $("item");
  el.innerHTML = "";
  el.className = "item" + (item.type === "case" ? " case" : "");
  if (item.type === "case") {
    const scenario = document.createElement("section");
    scenario.className = "scenario";
    scenario.setAttribute("aria-label", _("案例材料"));
    const title = document.createElement("h2");
    title.textContent = _("案例分析（%(points)s分）", { points: item.points });
    scenario.appendChild(title);
    scenario.insertAdjacentHTML("beforeend", item.stem); // the server's sanitised HTML
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
  $("flag").textContent = state.flags[q.id] ? _("取消标记") : _("标记");
  $("prev").disabled = state.index === 0;
  $("next").disabled = state.index === state.attempt.items.length - 1;
}

function span(className, text) {
  const el = document.createElement("span");
  el.className = className;
  el.textContent = text;
  return el;
}

function renderQuestion(q, sub) {
  const box = document.createElement("fieldset");
  box.className = "question" + (sub === state.active ? " active" : "");
  box.dataset.qid = q.id;
  const head = document.createElement("div"); // not a <legend>: long stems wrap badly inside the border
  head.className = "q-head";
  head.id = "qh-" + q.id;
  head.append(span("qno", state.numbers[q.id] + "."), " ",
    span("qtype", _("[%(type)s，%(points)s分]", { type: _(q.type_name), points: q.points })), " ");
  const stem = document.createElement("div");
  stem.className = "stem";
  stem.innerHTML = q.stem; // the server's sanitised HTML
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
    input.addEventListener("change", () => { state.active = sub; onChoose(q, option.id); });
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

export function markActive() {
  document.querySelectorAll(".question").forEach((el, i) => el.classList.toggle("active", i === state.active));
  renderCard();
}

function questionState(qid) {
  if (isPending(qid)) return isOffline() ? _("网络中断，答案已暂存本机") : _("正在保存");
  return answered(qid) ? _("已保存") : "";
}

export function updateQuestionState(qid) {
  const el = document.getElementById("state-" + qid);
  if (el) el.textContent = questionState(qid);
}

export function setSaveState() {
  const count = state.outbox ? state.outbox.size() : 0;
  const el = $("save-state");
  if (!count) { el.textContent = _("已保存"); el.className = "save-state saved"; }
  else if (isOffline()) { el.textContent = _("网络中断，答案已暂存本机（%(count)s）", { count: count }); el.className = "save-state offline"; }
  else { el.textContent = _("正在保存"); el.className = "save-state saving"; }
  document.querySelectorAll(".q-state").forEach((p) => { p.textContent = questionState(p.id.slice(6)); });
}

// ---------------------------------------------------------------- navigation and font size
export function go(index, sub) {
  if (index < 0 || index >= state.attempt.items.length) return;
  state.index = index;
  state.active = sub || 0;
  renderItem();
  renderCard();
  const first = $("item").querySelector(".question.active input") || $("item").querySelector("input");
  if (first) first.focus({ preventScroll: false });
}

export function setFont(px) {
  px = Math.max(14, Math.min(28, px));
  document.documentElement.style.setProperty("--exam-font", px + "px");
  localStorage.setItem("cbt:font", String(px));
}

export const savedFont = () => Number(localStorage.getItem("cbt:font")) || 18;
