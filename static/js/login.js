// Candidate login: ticket + ID number -> session cookie; the CSRF token is kept for the exam page.

import { _ } from "./i18n.js";

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");
const button = document.getElementById("login-button");
form.addEventListener("submit", async function (event) {
  event.preventDefault();
  error.hidden = true;
  const ticket = form.ticket.value.trim();
  const idNumber = form.id_number.value.trim();
  if (!ticket || !idNumber) {
    error.textContent = _("请输入准考证号和身份证号");
    error.hidden = false;
    return;
  }
  button.disabled = true;
  try {
    const response = await fetch("/api/v1/candidate/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ ticket: ticket, id_number: idNumber }),
    });
    const data = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      error.textContent = data.message || _("登录失败，请重试");
      error.hidden = false;
      return;
    }
    sessionStorage.setItem("cbt:csrf", data.csrf_token);
    window.location.assign("/exam");
  } catch (e) {
    error.textContent = _("网络连接失败，请检查网络或联系监考员");
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
});
