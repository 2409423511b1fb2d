// The portal's My data tab: download the whole record (PDF to read, FHIR for other systems), see who
// opened it, ask for a correction, a copy or erasure, and read the answers.

import { clearMessages, emptyState, showError, showNotice } from "../shared/alerts.js";
import { api, download } from "../shared/api.js";
import { busy, byId, h, replace } from "../shared/dom.js";
import { formatDateTime } from "../shared/time.js";

const ROLE_WORDS = { clinician: "clinician", nurse: "nurse", admin: "administrator", billing: "billing office" };
const KINDS = [
  ["correction", "Correct something in my record"],
  ["access", "Get a copy of my record from the hospital"],
  ["erasure", "Erase my data"],
];
const KIND_WORDS = Object.fromEntries(KINDS);
const STATUS_WORDS = { open: "waiting for an answer", completed: "done", refused: "refused" };

function downloads(user, messages) {
  const button = (label, format, fallback) => {
    const element = h("button", { type: "button", class: format === "pdf" ? null : "button-quiet" }, label);
    element.addEventListener("click", () =>
      download(`/api/v1/patients/${user.patient_id}/record?format=${format}`, fallback).catch((error) => showError(messages, error)),
    );
    return element;
  };
  return h(
    "section",
    { class: "card", "aria-labelledby": "download-title" },
    h("h2", { id: "download-title" }, "Download my record"),
    h("p", {}, "Everything in your record in one file: your details, problems, allergies, medicines, visits, test results, vital signs, messages and the list of your documents."),
    h("div", { class: "row" }, button("My record (PDF, to read)", "pdf", "health-record.pdf"), button("My record (FHIR, for another system)", "fhir", "health-record.fhir.json")),
  );
}

function visitLine(visit) {
  const who = `${visit.actor_name}, ${ROLE_WORDS[visit.role] ?? visit.role}${visit.department ? `, ${visit.department}` : ""}`;
  const what = [
    visit.viewed.length ? `looked at ${visit.viewed.join(", ")}` : null,
    visit.changed.length ? `changed ${visit.changed.join(", ")}` : null,
  ].filter(Boolean).join("; ");
  const when = visit.first_at === visit.last_at ? formatDateTime(visit.last_at) : `${formatDateTime(visit.first_at)} to ${formatDateTime(visit.last_at)}`;
  return h("li", {}, h("div", {}, h("strong", {}, who)), h("div", {}, what), h("div", { class: "meta" }, when));
}

async function accessLog(user) {
  const log = await api(`/api/v1/patients/${user.patient_id}/access-log`);
  return h(
    "section",
    { class: "card", "aria-labelledby": "access-title" },
    h("h2", { id: "access-title" }, "Who opened my record"),
    h("p", { class: "footer-note" }, "Every time a member of staff opens your record it is logged, with their name, role and department. Your own visits are not listed."),
    log.visits.length ? h("ul", { class: "list stacked", id: "access-log", "aria-labelledby": "access-title" }, log.visits.map(visitLine)) : emptyState("Nobody from the staff has opened your record yet."),
  );
}

function requestForm(user, { messages, onFiled }) {
  const form = h(
    "form",
    { class: "stack", id: "data-request-form", novalidate: true },
    h("label", {}, "What would you like?", h("select", { name: "kind" }, KINDS.map(([value, text]) => h("option", { value }, text)))),
    h("label", {}, "Tell us more", h("textarea", { name: "details", required: true, maxlength: 4000, placeholder: "What is wrong, and what it should say" })),
    h("p", { class: "footer-note", id: "erasure-note", hidden: true }, "Medical records must be kept for years by law. What cannot be erased yet is restricted instead: kept only for your care and legal claims. The answer will say what was erased and what was kept."),
    h("div", { class: "row" }, h("button", { type: "submit" }, "Send the request")),
  );
  form.elements.kind.addEventListener("change", () => { form.querySelector("#erasure-note").hidden = form.elements.kind.value !== "erasure"; });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(messages);
    if (!form.checkValidity()) {
      form.reportValidity();
      return;
    }
    const body = { kind: form.elements.kind.value, details: form.elements.details.value };
    try {
      await busy(form, () => api(`/api/v1/patients/${user.patient_id}/data-requests`, { method: "POST", json: body }));
      form.reset();
      showNotice(messages, "Your request was sent. An administrator will answer it; you will be told when they do.");
      await onFiled();
    } catch (error) {
      showError(messages, error);
    }
  });
  return form;
}

function requestLine(request) {
  return h(
    "li",
    {},
    h("div", {}, h("strong", {}, KIND_WORDS[request.kind]), " · ", h("span", { class: "status" }, STATUS_WORDS[request.status])),
    h("p", { class: "message-body" }, request.details),
    request.response ? h("p", {}, h("strong", {}, "Answer: "), request.response) : null,
    request.outcome.length ? h("ul", {}, request.outcome.map((d) => h("li", {}, `${d.category}: ${d.reason}`))) : null,
    h("div", { class: "meta" }, `Sent ${formatDateTime(request.created_at)}`, request.handled_at ? ` · answered ${formatDateTime(request.handled_at)}` : ""),
  );
}

/** Fills the My data tab for the signed-in patient. */
export async function showMyData(user) {
  const region = byId("my-data");
  const messages = h("div", { "aria-live": "polite", id: "my-data-messages" });
  const list = h("ul", { class: "list stacked", id: "data-requests", "aria-label": "My requests" });
  const loadRequests = async () => {
    const requests = await api(`/api/v1/patients/${user.patient_id}/data-requests`);
    replace(list, requests.length ? requests.map(requestLine) : h("li", {}, emptyState("No requests yet.")));
  };
  replace(
    region,
    messages,
    downloads(user, messages),
    await accessLog(user),
    h(
      "section",
      { class: "card", "aria-labelledby": "ask-title" },
      h("h2", { id: "ask-title" }, "Ask about my data"),
      requestForm(user, { messages, onFiled: loadRequests }),
      h("h3", { class: "subsection" }, "My requests"),
      list,
    ),
  );
  await loadRequests();
}
