// Staff accounts: list them (page by page), create one with a role, change a role, deactivate.

import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { formatDateTime } from "../shared/time.js";
import { word } from "../shared/words.js";
import { act, card, choice, field, onSubmit, query, table } from "./ui.js";

const STAFF_ROLES = [["nurse", "Nurse"], ["clinician", "Clinician"], ["billing", "Billing clerk"], ["admin", "Administrator"]];
const FILTER_ROLES = [["", "All roles"], ...STAFF_ROLES, ["patient", "Patient"]];

function createForm() {
  return h("form", { class: "stack", id: "user-form" },
    h("div", { class: "row" },
      field("Full name", { name: "full_name", required: true, maxlength: 200, autocomplete: "off" }),
      field("Email", { name: "email", type: "email", required: true, autocomplete: "off" })),
    h("div", { class: "row" },
      field("Initial password", { name: "password", type: "password", required: true, autocomplete: "new-password" }),
      choice("Role", { name: "role", required: true }, STAFF_ROLES)),
    h("div", {}, h("button", { type: "submit" }, "Create account")));
}

async function update(state, account, changes, notice) {
  state.show(await api(`/api/v1/users/${account.id}`, { method: "PATCH", json: changes }), false);
  return notice;
}

function actions(state, account) {
  // Administrators cannot lock themselves out here; patients' accounts are not staff business.
  if (account.id === state.user.id || account.role === "patient") return "";
  const roleForm = h("form", {},
    h("label", {}, h("span", { class: "sr-only" }, `Role of ${account.full_name}`),
      h("select", { name: "role" }, STAFF_ROLES.map(([value, text]) => h("option", { value }, text)))),
    h("button", { type: "submit", class: "button-quiet" }, "Change role"));
  roleForm.querySelector("select").value = account.role;
  onSubmit(roleForm, state.messages, ({ role }) => update(state, account, { role }, `${account.full_name} is now ${word("role", role).toLowerCase()}.`));
  const toggle = account.is_active
    ? h("button", { type: "button", class: "button-danger", onclick: () => act(state.messages, () =>
      update(state, account, { is_active: false }, `${account.full_name} is deactivated and signed out.`)) }, "Deactivate")
    : h("button", { type: "button", class: "button-quiet", onclick: () => act(state.messages, () =>
      update(state, account, { is_active: true }, `${account.full_name} is active again.`)) }, "Reactivate");
  return h("div", { class: "actions" }, roleForm, toggle);
}

function draw(state) {
  replace(state.list, table({
    id: "users-table",
    caption: "Accounts in creation order",
    columns: ["Name", "Email", "Role", "Status", "Created", "Actions"],
    empty: "No accounts match.",
    rows: state.rows.map((a) => ({ attrs: { "data-user-id": a.id }, cells: [
      a.full_name, a.email, word("role", a.role), a.is_active ? "Active" : "Deactivated", formatDateTime(a.created_at), actions(state, a)] })),
  }));
}

export async function render(container, { messages, user }) {
  const create = createForm();
  const filter = h("form", { class: "row", id: "user-filter" }, choice("Show", { name: "role" }, FILTER_ROLES), h("button", { type: "submit" }, "Show"));
  const more = h("button", { type: "button", class: "button-quiet", hidden: true }, "More accounts");
  const state = { messages, user, rows: [], cursor: null, role: "", list: h("div", { id: "users" }) };
  replace(container, card("new-user-title", "New staff account", create), card("users-title", "Accounts", filter, state.list, more));
  // A changed account is updated in place; a new one goes on top (the list runs oldest first).
  state.show = (account, onTop) => {
    state.rows = onTop
      ? [account, ...state.rows.filter((row) => row.id !== account.id)]
      : state.rows.map((row) => (row.id === account.id ? account : row));
    draw(state);
  };
  const load = async (reset) => {
    if (reset) { state.rows = []; state.cursor = null; }
    const page = await api(`/api/v1/users${query({ role: state.role, cursor: state.cursor, limit: 50 })}`);
    state.rows = state.rows.concat(page.items);
    state.cursor = page.next_cursor;
    more.hidden = !state.cursor;
    draw(state);
  };
  onSubmit(filter, messages, async (data) => { state.role = data.role ?? ""; await load(true); });
  more.addEventListener("click", () => act(messages, () => load(false)));
  onSubmit(create, messages, async (data) => {
    const created = await api("/api/v1/users", { method: "POST", json: data });
    create.reset();
    state.show(created, true);
    return `Account created for ${created.full_name} (${word("role", created.role).toLowerCase()}).`;
  });
  await load(true);
}
