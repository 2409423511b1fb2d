// SMART apps: register an app (public, confidential or backend service), see each app's client id
// and scopes, suspend or restore it. A confidential app's secret is shown once, when created.

import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { textArea } from "../shared/forms.js";
import { act, card, choice, field, onSubmit, table } from "./ui.js";

const TYPES = [["public", "Public (browser or phone app, PKCE)"], ["confidential", "Confidential (server app with a secret)"], ["backend", "Backend service (signed JWT, system scopes)"]];
const TYPE_WORDS = { public: "Public", confidential: "Confidential", backend: "Backend service" };

function createForm() {
  return h("form", { class: "stack", id: "app-form" },
    h("div", { class: "row" },
      field("App name", { name: "name", required: true, maxlength: 200, autocomplete: "off" }),
      choice("Kind of app", { name: "client_type", required: true }, TYPES)),
    field("Allowed scopes", { name: "scopes", required: true, maxlength: 2000, placeholder: "launch/patient patient/*.rs openid fhirUser offline_access" }),
    textArea("Redirect URIs (one per line)", { name: "redirect_uris", rows: 2 }),
    h("div", { class: "row" },
      field("Launch URL (opened from a chart)", { name: "launch_url", type: "url" }),
      field("JWKS URL (backend services)", { name: "jwks_url", type: "url" })),
    textArea("Public keys as a JWK Set (backend services, instead of a URL)", { name: "jwks", rows: 3 }),
    h("div", {}, h("button", { type: "submit" }, "Register app")));
}

function registration(data) {
  const body = { name: data.name, client_type: data.client_type, scopes: data.scopes };
  body.redirect_uris = (data.redirect_uris ?? "").split(/\s+/).filter(Boolean);
  if (data.launch_url) body.launch_url = data.launch_url;
  if (data.jwks_url) body.jwks_url = data.jwks_url;
  if (data.jwks) {
    try {
      body.jwks = JSON.parse(data.jwks);
    } catch {
      throw Object.assign(new Error("The public keys are not valid JSON."), { title: "Check the JWK Set" });
    }
  }
  return body;
}

function draw(state) {
  replace(state.list, table({
    id: "apps-table",
    caption: "Registered apps, newest first",
    columns: ["Name", "Client id", "Kind", "Scopes", "Status", "Actions"],
    empty: "No app is registered yet.",
    rows: state.rows.map((app) => ({ attrs: { "data-app-id": app.id }, cells: [
      app.name, h("code", {}, app.client_id), TYPE_WORDS[app.client_type], app.scopes, app.is_active ? "Active" : "Suspended",
      h("button", {
        type: "button",
        class: app.is_active ? "button-danger" : "button-quiet",
        onclick: () => act(state.messages, async () => {
          const changed = await api(`/api/v1/smart/apps/${app.id}`, { method: "PATCH", json: { is_active: !app.is_active } });
          state.rows = state.rows.map((row) => (row.id === changed.id ? changed : row));
          draw(state);
          return changed.is_active ? `${changed.name} is active again.` : `${changed.name} is suspended: it gets no new token.`;
        }),
      }, app.is_active ? "Suspend" : "Restore")] })),
  }));
}

export async function render(container, { messages }) {
  const create = createForm();
  const issued = h("div", { id: "app-issued", "aria-live": "polite" });
  const state = { messages, rows: [], list: h("div", { id: "apps" }) };
  replace(container, card("new-app-title", "Register a SMART app", create, issued), card("apps-title", "Apps", state.list));
  onSubmit(create, messages, async (data) => {
    const created = await api("/api/v1/smart/apps", { method: "POST", json: registration(data) });
    create.reset();
    state.rows = [created, ...state.rows];
    draw(state);
    replace(issued, h("div", { class: "alert alert-ok", role: "status" },
      h("p", {}, `${created.name} is registered. Client id: `, h("code", {}, created.client_id)),
      created.client_secret ? h("p", {}, "Client secret (shown only now; keep it in the app's server): ", h("code", {}, created.client_secret)) : null));
    return `${created.name} is registered.`;
  });
  state.rows = await api("/api/v1/smart/apps");
  draw(state);
}
