// The exam page's ways to the server: the live channel (Socket.IO, the global `io` of the vendor
// script loaded before this module) and the HTTP API, which keeps working when the channel is down.

import { _ } from "../i18n.js";

export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}
export class NetworkError extends Error {}

let socket = null;
let onLoggedOut = () => {};

/** What to do (cover the page) when the server says the login is no longer valid. */
export function whenLoggedOut(handler) { onLoggedOut = handler; }

/** The live channel once connect() made it, else null. */
export function liveChannel() { return socket; }

export async function api(method, path, body) {
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
    throw new ApiError(response.status, data.error, data.message || _("请求失败"));
  }
  return data;
}

// 开始考试, each answer and 交卷 go over the live channel while it is up: the same answers as the
// HTTP API at about half the server's work (a start storm is every candidate of a session at the
// same second). Over HTTP when the channel is down, or gives no answer in time: each of the three
// is safe to repeat (an answer carries its sequence number).
const LIVE_TIMEOUT_MS = 20000;
export function send(event, data, method, path, body) {
  if (!socket || !socket.connected) return api(method, path, body);
  return new Promise((resolve, reject) => {
    socket.timeout(LIVE_TIMEOUT_MS).emit(event, data, (err, res) => {
      if (err) return api(method, path, body).then(resolve, reject);
      if (res && res.error) {
        return reject(res.status === 401 ? loggedOut(res) : new ApiError(res.status || 400, res.error, res.message || _("请求失败")));
      }
      resolve(res);
    });
  });
}

function loggedOut(data) { // covers the page; the error to throw
  onLoggedOut((data && data.message) || _("登录已失效，请重新登录。"));
  return new ApiError(401, data && data.error, data && data.message);
}

export async function refreshCsrf() {
  const status = await api("GET", "/api/v1/candidate/status");
  sessionStorage.setItem("cbt:csrf", status.csrf_token);
}

/**
 * Opens the live channel once (later calls, or a page without the vendor script, change nothing).
 * The caller adds the page's handlers to the socket returned.
 */
export function connect(token) {
  if (socket || typeof io === "undefined") return null;
  const lang = document.documentElement.lang; // the live channel answers in the page's language
  socket = io("/exam", { auth: (cb) => cb({ token: token, lang: lang }), transports: ["websocket", "polling"] });
  socket.on("connect_error", () => {});
  // whether the live channel is up, on the page for kiosk diagnostics and tests
  socket.on("connect", () => { document.body.dataset.live = "up"; });
  socket.on("disconnect", () => { document.body.dataset.live = "down"; });
  return socket;
}
