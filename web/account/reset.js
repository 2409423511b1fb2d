// The page the reset email links to: a new password (rules explained while typing) set with the
// link's token, which works once.

import { clearMessages, showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { busy, byId } from "../shared/dom.js";
import { bindPasswordRules, loadPolicy, takeLinkToken } from "./password-rules.js";

async function main() {
  const messages = byId("messages");
  const form = byId("reset-form");
  const token = takeLinkToken();
  if (!token) {
    showError(messages, { title: "No link", message: "Open this page from the link in your email, or ask for a new one." });
    return;
  }
  const policy = await loadPolicy();
  const checkRules = bindPasswordRules({
    policy,
    password: form.elements.password,
    confirm: form.elements.confirm,
    list: byId("password-rules"),
    // The account's email and name are not known here; the server checks them when it is sent.
    personal: () => ({}),
  });
  form.hidden = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(messages);
    if (!checkRules()) {
      showError(messages, { title: "Choose another password", message: "The password does not meet the rules marked ✗ yet." });
      form.elements.password.focus();
      return;
    }
    try {
      const password = form.elements.password.value;
      const answer = await busy(form, () => api("/api/v1/auth/reset-password", { method: "POST", json: { token, password } }));
      form.hidden = true;
      byId("title").textContent = "Your password is changed";
      showNotice(messages, answer.detail);
      byId("signin-link").hidden = false;
      byId("title").focus();
    } catch (error) {
      showError(messages, error);
    }
  });
}

main()
  .catch((error) => showError(byId("messages"), error))
  .finally(() => { document.body.dataset.ready = "true"; });
