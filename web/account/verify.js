// The page the verification email links to: confirms the address with the link's token (read from
// the fragment, never sent in a URL), or offers a new link.

import { showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { busy, byId } from "../shared/dom.js";
import { takeLinkToken } from "./password-rules.js";

function offerNewLink() {
  const form = byId("resend-form");
  form.hidden = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.checkValidity()) {
      form.reportValidity();
      return;
    }
    try {
      const email = form.elements.email.value;
      const answer = await busy(form, () => api("/api/v1/auth/resend-verification", { method: "POST", json: { email } }));
      form.hidden = true;
      showNotice(byId("messages"), answer.detail);
    } catch (error) {
      showError(byId("messages"), error);
    }
  });
}

async function main() {
  const messages = byId("messages");
  const token = takeLinkToken();
  if (!token) {
    showError(messages, { title: "No link", message: "Open this page from the link in your email." });
    offerNewLink();
    return;
  }
  try {
    const answer = await api("/api/v1/auth/verify-email", { method: "POST", json: { token } });
    byId("title").textContent = "Your email is confirmed";
    showNotice(messages, answer.detail);
    byId("signin-link").hidden = false;
  } catch (error) {
    showError(messages, error);
    offerNewLink();
  }
  byId("title").focus();
}

main()
  .catch((error) => showError(byId("messages"), error))
  .finally(() => { document.body.dataset.ready = "true"; });
