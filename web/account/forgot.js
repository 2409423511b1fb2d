// Forgotten password: the same answer for every address; the email says what happened.

import { clearMessages, showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { busy, byId } from "../shared/dom.js";

const form = byId("forgot-form");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const messages = byId("messages");
  clearMessages(messages);
  if (!form.checkValidity()) {
    form.reportValidity();
    return;
  }
  try {
    const email = form.elements.email.value;
    const answer = await busy(form, () => api("/api/v1/auth/forgot-password", { method: "POST", json: { email } }));
    form.hidden = true;
    byId("title").textContent = "Check your email";
    showNotice(messages, answer.detail);
    byId("title").focus();
  } catch (error) {
    showError(messages, error);
  }
});
document.body.dataset.ready = "true";
