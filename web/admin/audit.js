// The audit log: filter by actor, patient, resource, action, outcome and time; page back; check the chain.

import { showNotice } from "../shared/alerts.js";
import { api, ApiError } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { formatDateTime, localDayBoundary } from "../shared/time.js";
import { word } from "../shared/words.js";
import { act, card, choice, field, onSubmit, query, table } from "./ui.js";

const OUTCOMES = [["", "Any outcome"], ["success", "Success"], ["failure", "Failure"], ["denied", "Denied"]];

function filterForm() {
  return h(
    "form",
    { class: "stack", id: "audit-filter" },
    h("div", { class: "row" },
      field("Action", { name: "action", maxlength: 64, placeholder: "read, create, login…" }),
      field("Resource type", { name: "resource_type", maxlength: 64, placeholder: "patient, device…" }),
      field("Resource id", { name: "resource_id", maxlength: 128 }),
      choice("Outcome", { name: "outcome" }, OUTCOMES),
    ),
    h("div", { class: "row" },
      field("Actor (user id)", { name: "actor_id", maxlength: 36 }),
      field("Patient id", { name: "patient_id", maxlength: 36 }),
      field("From (day)", { name: "since", type: "date" }),
      field("To (day, included)", { name: "until", type: "date" }),
    ),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply filters"), h("button", { type: "reset", class: "button-quiet" }, "Clear")),
  );
}

async function checkChain(button, result) {
  button.disabled = true;
  try {
    const report = await api("/api/v1/audit/verify");
    if (!report.ok) {
      throw new ApiError(200, { title: "The chain is broken", detail: `At entry #${report.first_broken_seq}: ${report.reason}. ${report.checked} entries checked.` });
    }
    showNotice(result, `The chain is intact: ${report.checked} entries checked, up to #${report.head_seq}.`);
  } finally {
    button.disabled = false;
  }
}

// Entries carry ids; people read names. Names are asked for once per page of entries.
async function learnNames(entries, names) {
  const users = new Set();
  const patients = new Set();
  for (const e of entries) {
    if (e.actor_id && !(e.actor_id in names.users)) users.add(e.actor_id);
    if (e.patient_id && !(e.patient_id in names.patients)) patients.add(e.patient_id);
    if (e.resource_type === "user" && e.resource_id && !(e.resource_id in names.users)) users.add(e.resource_id);
  }
  if (!users.size && !patients.size) return;
  const search = new URLSearchParams();
  for (const id of users) search.append("user_id", id);
  for (const id of patients) search.append("patient_id", id);
  const found = await api(`/api/v1/directory/names?${search}`);
  Object.assign(names.users, found.users);
  Object.assign(names.patients, found.patients);
}

function named(text, id) {
  return h("span", { title: id }, text);
}

function actorCell(entry, names) {
  if (!entry.actor_id) return "system";
  const user = names.users[entry.actor_id];
  if (user?.role === "system") return named(user.name, entry.actor_id);
  return user ? named(`${user.name} (${word("role", user.role).toLowerCase()})`, entry.actor_id) : named(`${entry.actor_role ?? "unknown"} ${entry.actor_id.slice(0, 8)}…`, entry.actor_id);
}

function patientName(id, names) {
  const patient = names.patients[id];
  return patient ? named(`${patient.name} (${patient.mrn})`, id) : named(`patient ${id.slice(0, 8)}…`, id);
}

function resourceCell(entry, names) {
  const kind = entry.resource_type.replaceAll("_", " ");
  if (!entry.resource_id) return kind;
  if (entry.resource_type === "patient") return h("span", {}, `${kind} `, patientName(entry.resource_id, names));
  if (entry.resource_type === "user" && names.users[entry.resource_id]) return h("span", {}, `${kind} `, named(names.users[entry.resource_id].name, entry.resource_id));
  // Other records are known by their kind; the id (hover for all of it) finds them in the API.
  const short = entry.resource_id.length > 12 ? `${entry.resource_id.slice(0, 8)}…` : entry.resource_id;
  return h("span", {}, `${kind} `, named(short, entry.resource_id));
}

export async function render(container, { messages }) {
  const filters = filterForm();
  const list = h("div", { id: "audit-events" });
  const more = h("button", { type: "button", class: "button-quiet", hidden: true }, "Older entries");
  const chainResult = h("div", { id: "chain-result", "aria-live": "polite" });
  const verify = h("button", { type: "button", id: "verify-chain" }, "Check the chain");
  replace(
    container,
    card("chain-title", "Integrity", h("p", {}, "Each entry carries the hash of the one before it; the check recomputes the whole chain."), verify, chainResult),
    card("audit-title", "Entries, newest first", filters, list, more),
  );

  let params = {};
  let rows = [];
  let before = null;
  const names = { users: {}, patients: {} };
  const draw = () =>
    replace(list, table({
      id: "audit-table",
      caption: "Audit entries",
      columns: ["#", "When", "Actor", "Action", "Resource", "Patient", "Outcome", "From"],
      empty: "No entries match these filters.",
      rows: rows.map((e) => ({ attrs: { "data-seq": e.seq }, cells: [
        String(e.seq), formatDateTime(e.occurred_at), actorCell(e, names), e.action.replaceAll("_", " "), resourceCell(e, names),
        e.patient_id ? patientName(e.patient_id, names) : "", e.outcome, e.client_address ?? ""] })),
    }));
  const load = async (reset) => {
    if (reset) { rows = []; before = null; }
    const page = await api(`/api/v1/audit/events${query({ ...params, before, limit: 50 })}`);
    await learnNames(page.items, names);
    rows = rows.concat(page.items);
    before = page.next_cursor;
    more.hidden = !before;
    draw();
  };
  onSubmit(filters, messages, async (data) => {
    // Days are the administrator's local days; the API takes instants.
    params = { ...data };
    if (data.since) params.since = localDayBoundary(data.since);
    if (data.until) params.until = localDayBoundary(data.until, true);
    await load(true);
  });
  filters.addEventListener("reset", () => { params = {}; act(messages, () => load(true)); });
  more.addEventListener("click", () => act(messages, () => load(false)));
  verify.addEventListener("click", () => act(messages, () => checkChain(verify, chainResult)));
  await load(true);
}
