// The sign-in page: sends each role to its own home once signed in.

import { showError, showNotice } from "./shared/alerts.js";
import { api } from "./shared/api.js";
import { bindSignInForm, homeFor } from "./shared/auth.js";
import { byId, h } from "./shared/dom.js";
import { getSession } from "./shared/session.js";

const session = getSession();
if (session?.user) {
  window.location.replace(homeFor(session.user.role));
}

const form = byId("signin-form");
bindSignInForm(form, {
  onSignedIn: (user) => window.location.assign(homeFor(user.role)),
  onError: (error) => {
    showError(byId("messages"), error);
    if (error.code === "email-not-verified") offerNewLink(form.elements.email.value);
  },
});

// Said only to whoever typed the right password: their address is not confirmed yet.
function offerNewLink(email) {
  const resend = h("button", { type: "button", class: "button-quiet", id: "resend-link" }, "Email me a new link");
  resend.addEventListener("click", async () => {
    try {
      const answer = await api("/api/v1/auth/resend-verification", { method: "POST", json: { email } });
      showNotice(byId("messages"), answer.detail);
    } catch (failure) {
      showError(byId("messages"), failure);
    }
  });
  byId("messages").querySelector(".alert")?.append(resend);
}

document.body.dataset.ready = "true";
