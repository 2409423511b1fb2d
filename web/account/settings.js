// My account (every role): change the password, the apps you allowed, sign out everywhere.

import { clearMessages, showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { homeFor, requireUser } from "../shared/auth.js";
import { busy, byId, h, replace } from "../shared/dom.js";
import { renderLayout } from "../shared/layout.js";
import { clearSession, saveTokens } from "../shared/session.js";
import { renderConnectedApps } from "./connected-apps.js";
import { bindPasswordRules, loadPolicy } from "./password-rules.js";

const ROLE_NAMES = { patient: "Patient", clinician: "Clinician", nurse: "Nurse", admin: "Administrator", billing: "Billing" };

function bindPasswordForm(user, policy) {
  const form = byId("password-form");
  const messages = byId("password-messages");
  const checkRules = bindPasswordRules({
    policy,
    password: form.elements.new_password,
    confirm: form.elements.confirm,
    list: byId("password-rules"),
    personal: () => ({ email: user.email, name: user.full_name }),
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(messages);
    if (!form.checkValidity()) {
      form.reportValidity();
      return;
    }
    if (!checkRules()) {
      showError(messages, { title: "Choose another password", message: "The new password does not meet the rules marked ✗ yet." });
      return;
    }
    const body = { current_password: form.elements.current_password.value, new_password: form.elements.new_password.value };
    try {
      const pair = await busy(form, () => api("/api/v1/auth/change-password", { method: "POST", json: body }));
      saveTokens(pair);
      form.reset();
      checkRules();
      showNotice(messages, "Your password is changed. Your other devices were signed out.");
    } catch (error) {
      showError(messages, error);
    }
  });
}

function bindSignOutEverywhere() {
  const dialog = byId("everywhere-dialog");
  byId("sign-out-everywhere").addEventListener("click", () => dialog.showModal());
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "confirm") return;
    try {
      await api("/api/v1/auth/sign-out-everywhere", { method: "POST" });
      clearSession();
      window.location.assign("/");
    } catch (error) {
      showError(byId("messages"), error);
    }
  });
}

async function main() {
  const user = await requireUser(["patient", "clinician", "nurse", "admin", "billing"]);
  if (!user) return;
  renderLayout(user);
  byId("home-link").href = homeFor(user.role);
  replace(
    byId("account-facts"),
    h("dt", {}, "Name"), h("dd", {}, user.full_name),
    h("dt", {}, "Email"), h("dd", {}, user.email),
    h("dt", {}, "Role"), h("dd", {}, ROLE_NAMES[user.role] ?? user.role),
  );
  bindPasswordForm(user, await loadPolicy());
  bindSignOutEverywhere();
  await renderConnectedApps(byId("connected-apps"), byId("messages"));
  document.body.dataset.ready = "true";
}

main().catch((error) => showError(byId("messages"), error));
