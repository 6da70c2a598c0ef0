// Signals for the proctor: the page hidden, the window left, full screen left, copy, paste and the
// context menu. Evidence for a person to look at, never a penalty: the server records them as incidents.

const examHidden = () => document.getElementById("exam").hidden;

let channel = () => null;
let taking = () => false;

/** Sends one signal over the live channel while the candidate is taking a paper (and the channel is there). */
export function signal(kind, seconds) {
  const socket = channel();
  if (!socket || examHidden() || !taking()) return;
  socket.emit("signal", seconds === undefined ? { kind: kind } : { kind: kind, seconds: seconds });
}

/**
 * Starts watching the page.
 * @param {function(): ?object} liveChannel  the socket, or null
 * @param {function(): boolean} isTaking  a paper is open and not submitted
 */
export function watchSignals(liveChannel, isTaking) {
  channel = liveChannel;
  taking = isTaking;
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
      if (examHidden()) return;
      event.preventDefault();
      signal(kind);
    });
  }
}
