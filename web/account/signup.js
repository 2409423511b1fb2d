// Sign-up: the password rules are explained while typing; the answer is the same whether or not
// the address already has an account, and the email says what happened.

import { clearMessages, showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { busy, byId } from "../shared/dom.js";
import { bindPasswordRules, loadPolicy } from "./password-rules.js";

async function main() {
  const form = byId("signup-form");
  const messages = byId("messages");
  const policy = await loadPolicy();
  const checkRules = bindPasswordRules({
    policy,
    password: form.elements.password,
    confirm: form.elements.confirm,
    list: byId("password-rules"),
    personal: () => ({ email: form.elements.email.value, name: form.elements.full_name.value }),
  });
  for (const name of ["email", "full_name"]) form.elements[name].addEventListener("input", checkRules);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(messages);
    const data = Object.fromEntries(new FormData(form).entries());
    if (!form.checkValidity()) {
      form.reportValidity();
      return;
    }
    if (!checkRules()) {
      showError(messages, { title: "Choose another password", message: "The password does not meet the rules marked ✗ yet." });
      form.elements.password.focus();
      return;
    }
    const body = { full_name: data.full_name, email: data.email, password: data.password };
    if (data.birth_date) body.birth_date = data.birth_date;
    try {
      const answer = await busy(form, () => api("/api/v1/auth/register", { method: "POST", json: body }));
      form.hidden = true;
      byId("sent-detail").textContent = answer.detail;
      byId("sent").hidden = false;
      byId("resend").addEventListener("click", () => resend(data.email, messages));
      byId("title").textContent = "Check your email";
      byId("title").focus();
    } catch (error) {
      showError(messages, error);
    }
  });
  document.body.dataset.ready = "true";
}

async function resend(email, messages) {
  try {
    const answer = await api("/api/v1/auth/resend-verification", { method: "POST", json: { email } });
    showNotice(messages, answer.detail);
  } catch (error) {
    showError(messages, error);
  }
}

main().catch((error) => showError(byId("messages"), error));
