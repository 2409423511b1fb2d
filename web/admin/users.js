// Staff accounts: list them (page by page), create one with a role, change a role, deactivate.

import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { formatDateTime } from "../shared/time.js";
import { act, card, choice, field, onSubmit, query, table } from "./ui.js";

const STAFF_ROLES = [["nurse", "Nurse"], ["clinician", "Clinician"], ["admin", "Administrator"]];
const FILTER_ROLES = [["", "All roles"], ...STAFF_ROLES, ["patient", "Patient"]];

export async function render(container, { messages, user }) {
  const list = h("div", { id: "users" });
  const more = h("button", { type: "button", class: "button-quiet", hidden: true }, "More accounts");
  const filter = h("form", { class: "row", id: "user-filter" }, choice("Show", { name: "role" }, FILTER_ROLES), h("button", { type: "submit" }, "Show"));
  const create = h(
    "form",
    { class: "stack", id: "user-form" },
    h("div", { class: "row" },
      field("Full name", { name: "full_name", required: true, maxlength: 200, autocomplete: "off" }),
      field("Email", { name: "email", type: "email", required: true, autocomplete: "off" }),
    ),
    h("div", { class: "row" },
      field("Initial password", { name: "password", type: "password", required: true, autocomplete: "new-password" }),
      choice("Role", { name: "role", required: true }, STAFF_ROLES),
    ),
    h("div", {}, h("button", { type: "submit" }, "Create account")),
  );
  replace(
    container,
    card("new-user-title", "New staff account", create),
    card("users-title", "Accounts", filter, list, more),
  );

  let rows = [];
  let cursor = null;
  let role = "";
  const draw = () =>
    replace(list, table({
      id: "users-table",
      caption: "Accounts in creation order",
      columns: ["Name", "Email", "Role", "Status", "Created", "Actions"],
      rows: rows.map((account) => ({ attrs: { "data-user-id": account.id }, cells: rowCells(account) })),
      empty: "No accounts match.",
    }));
  const rowCells = (account) => [
    account.full_name,
    account.email,
    account.role,
    account.is_active ? "Active" : "Deactivated",
    formatDateTime(account.created_at),
    account.id === user.id || account.role === "patient" ? "" : actions(account),
  ];
  const actions = (account) => {
    const roleForm = h("form", {}, choice(`Role of ${account.full_name}`, { name: "role" }, STAFF_ROLES), h("button", { type: "submit", class: "button-quiet" }, "Change role"));
    roleForm.querySelector("select").value = account.role;
    onSubmit(roleForm, messages, async ({ role: newRole }) => update(account, { role: newRole }, `${account.full_name} is now ${newRole}.`));
    const toggle = account.is_active
      ? h("button", { type: "button", class: "button-danger", onclick: () => act(messages, () => update(account, { is_active: false }, `${account.full_name} is deactivated and signed out.`)) }, "Deactivate")
      : h("button", { type: "button", class: "button-quiet", onclick: () => act(messages, () => update(account, { is_active: true }, `${account.full_name} is active again.`)) }, "Reactivate");
    return h("div", { class: "actions" }, roleForm, toggle);
  };
  const update = async (account, changes, notice) => {
    const changed = await api(`/api/v1/users/${account.id}`, { method: "PATCH", json: changes });
    rows = rows.map((row) => (row.id === changed.id ? changed : row));
    draw();
    return notice;
  };
  const load = async (reset) => {
    if (reset) { rows = []; cursor = null; }
    const page = await api(`/api/v1/users${query({ role, cursor, limit: 50 })}`);
    rows = rows.concat(page.items);
    cursor = page.next_cursor;
    more.hidden = !cursor;
    draw();
  };

  onSubmit(filter, messages, async (data) => { role = data.role ?? ""; await load(true); });
  more.addEventListener("click", () => act(messages, () => load(false)));
  onSubmit(create, messages, async (data) => {
    const created = await api("/api/v1/users", { method: "POST", json: data });
    create.reset();
    // The list runs oldest first; the new account goes on top so it can be checked at once.
    rows = [created, ...rows.filter((row) => row.id !== created.id)];
    draw();
    return `Account created for ${created.full_name} (${created.role}).`;
  });
  await load(true);
}
