// The SMART apps the user allowed: what each may do, in words, and a button ending its access.

import { emptyState, showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { formatDateTime } from "../shared/time.js";

function item(app, region, messages) {
  const end = h("button", { type: "button", class: "button-danger" }, `End access of ${app.app_name}`);
  end.addEventListener("click", async () => {
    try {
      await api(`/api/v1/smart/connected-apps/${encodeURIComponent(app.grant_id)}`, { method: "DELETE" });
      showNotice(messages, `${app.app_name} can no longer use your account.`);
      await renderConnectedApps(region, messages);
    } catch (error) {
      showError(messages, error);
    }
  });
  const until = app.renewable_until ? `; it may renew its access until ${formatDateTime(app.renewable_until)}` : "";
  return h(
    "li",
    { dataset: { grantId: app.grant_id } },
    h("strong", {}, app.app_name),
    h("div", { class: "meta" }, `Allowed ${formatDateTime(app.granted_at)}${until}.`),
    h("ul", {}, app.scopes.map((scope) => h("li", { title: scope.scope }, scope.words))),
    end,
  );
}

/** Lists the apps with access in `region`; confirmations and errors go to `messages`. */
export async function renderConnectedApps(region, messages) {
  const apps = await api("/api/v1/smart/connected-apps");
  replace(
    region,
    apps.length
      ? h("ul", { class: "list", "aria-label": "Apps with access" }, apps.map((app) => item(app, region, messages)))
      : emptyState("No app has access to your account."),
  );
}
