// The audit log: filter by actor, patient, resource, action, outcome and time; page back; check the chain,
// download a signed checkpoint and check the chain against one saved earlier.

import { showNotice } from "../shared/alerts.js";
import { api, ApiError, download } from "../shared/api.js";
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

function describe(report) {
  const waiting = report.pending === 1 ? " 1 newer entry is waiting for its seal (about a second)."
    : report.pending ? ` ${report.pending} newer entries are waiting for their seal (about a second).` : "";
  if (!report.ok) {
    const where = report.first_broken_seq !== null ? `At entry #${report.first_broken_seq}: ` : report.broken_seal !== null ? `At seal ${report.broken_seal}: ` : "";
    throw new ApiError(200, { title: "The log does not verify", detail: `${where}${report.reason}. ${report.checked} entries checked.` });
  }
  const against = report.checkpoint_sequence !== null ? ` It still holds the checkpoint of seal ${report.checkpoint_sequence}.` : "";
  return `The chain is intact: ${report.checked} entries checked, up to seal ${report.head.sequence}.${against}${waiting}`;
}

async function checkChain(button, result, checkpointFile) {
  button.disabled = true;
  try {
    let report;
    if (checkpointFile) {
      let checkpoint;
      try {
        checkpoint = JSON.parse(await checkpointFile.text());
      } catch {
        throw new ApiError(400, { title: "Not a checkpoint", detail: `${checkpointFile.name} is not a JSON checkpoint file.` });
      }
      report = await api("/api/v1/audit/verify", { method: "POST", json: checkpoint });
    } else {
      report = await api("/api/v1/audit/verify");
    }
    showNotice(result, describe(report));
  } finally {
    button.disabled = false;
  }
}

function integrityCard(messages) {
  const chainResult = h("div", { id: "chain-result", "aria-live": "polite" });
  const verify = h("button", { type: "button", id: "verify-chain" }, "Check the chain");
  const exportButton = h("button", { type: "button", class: "button-quiet" }, "Download a checkpoint");
  const picker = field("Saved checkpoint", { type: "file", accept: "application/json,.json" });
  const file = picker.querySelector("input");
  const against = h("button", { type: "button", class: "button-quiet" }, "Check against this checkpoint");
  verify.addEventListener("click", () => act(messages, () => checkChain(verify, chainResult, null)));
  exportButton.addEventListener("click", () => act(messages, async () => `Downloaded ${await download("/api/v1/audit/checkpoint", "ownat-audit-checkpoint.json")}: keep it away from this server.`));
  against.addEventListener("click", () => act(messages, async () => {
    if (!file.files?.length) throw new ApiError(400, { title: "No checkpoint chosen", detail: "Choose a checkpoint file you downloaded earlier." });
    await checkChain(against, chainResult, file.files[0]);
  }));
  return card("chain-title", "Integrity",
    h("p", {}, "Each entry is signed when it is written, and sealed into a chain within a second; the check recomputes every signature and seal. Download a checkpoint from time to time and keep it elsewhere: checking against it also shows whether the newest entries were removed."),
    h("div", { class: "actions" }, verify, exportButton),
    h("div", { class: "row" }, picker, against),
    chainResult,
  );
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
  replace(container, integrityCard(messages), card("audit-title", "Entries, newest first", filters, list, more));

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
  await load(true);
}
