// Data requests: patients' requests for access, correction and erasure, answered here. Erasure shows
// its plan first (what is erased, what the law keeps and restricts, until when).

import { emptyState } from "../shared/alerts.js";
import { api, download } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { formatDate, formatDateTime } from "../shared/time.js";
import { act, card, choice, query } from "./ui.js";

const KIND_WORDS = { access: "Copy of the record", correction: "Correction", erasure: "Erasure" };
const ACTION_WORDS = { erase: "Erased", restrict: "Kept and restricted", keep: "Kept" };
const STATUSES = [["open", "Waiting for an answer"], ["completed", "Completed"], ["refused", "Refused"], ["", "All"]];

function planTable(plan) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "erasure-plan" },
      h("caption", {}, "What erasure does"),
      h("thead", {}, h("tr", {}, h("th", {}, "Data"), h("th", {}, "Done"), h("th", {}, "Why"))),
      h("tbody", {}, plan.map((d) => h("tr", {}, h("td", {}, d.category), h("td", {}, ACTION_WORDS[d.action], d.until ? ` until ${formatDate(d.until)}` : ""), h("td", {}, d.reason)))),
    ),
  );
}

function answerForm(request, { messages, onAnswered }) {
  const response = h("textarea", { name: "response", required: true, maxlength: 4000, placeholder: "What was done, or why not" });
  const send = (grant) => act(messages, async () => {
    if (!response.value.trim()) {
      response.setCustomValidity("Write the answer the patient will read.");
      response.reportValidity();
      response.setCustomValidity("");
      return null;
    }
    const erasing = grant && request.kind === "erasure";
    if (erasing && !window.confirm(`Erase ${request.patient_name}'s account and restrict the record? This cannot be undone.`)) return null;
    await api(`/api/v1/data-requests/${request.id}/${grant ? "complete" : "refuse"}`, { method: "POST", json: { response: response.value } });
    await onAnswered();
    return grant ? "The request is completed; the patient is told." : "The request is refused; the patient is told.";
  });
  const complete = h("button", { type: "button", class: request.kind === "erasure" ? "button-danger" : null }, request.kind === "erasure" ? "Erase and restrict" : "Mark as done");
  const refuse = h("button", { type: "button", class: "button-quiet" }, "Refuse");
  complete.addEventListener("click", () => send(true));
  refuse.addEventListener("click", () => send(false));
  return h("div", { class: "stack" }, h("label", {}, "Answer to the patient", response), h("div", { class: "row" }, complete, refuse));
}

async function requestCard(request, context) {
  const parts = [
    h("p", { class: "meta" }, `${request.patient_name} (${request.mrn}) · asked by ${request.requested_by_name} on ${formatDateTime(request.created_at)}`),
    h("p", { class: "request-details" }, request.details),
  ];
  if (request.kind === "access" || request.kind === "correction") {
    const pdf = h("button", { type: "button", class: "button-quiet" }, "Download the record (PDF)");
    const fhir = h("button", { type: "button", class: "button-quiet" }, "Download the record (FHIR)");
    pdf.addEventListener("click", () => act(context.messages, () => download(`/api/v1/patients/${request.patient_id}/record?format=pdf`).then(() => null)));
    fhir.addEventListener("click", () => act(context.messages, () => download(`/api/v1/patients/${request.patient_id}/record?format=fhir`).then(() => null)));
    parts.push(h("div", { class: "row" }, pdf, fhir));
  }
  if (request.status === "open" && request.kind === "erasure") {
    parts.push(planTable(await api(`/api/v1/data-requests/${request.id}/erasure-plan`)));
  }
  if (request.status === "open") parts.push(answerForm(request, context));
  else {
    parts.push(h("p", {}, h("strong", {}, `${request.status === "completed" ? "Completed" : "Refused"} by ${request.handled_by_name ?? "?"} on ${formatDateTime(request.handled_at)}: `), request.response));
    if (request.outcome.length) parts.push(planTable(request.outcome));
  }
  return h("li", { class: "card", dataset: { requestId: request.id } }, h("h3", {}, `${KIND_WORDS[request.kind]}: ${request.patient_name}`), parts);
}

export async function render(container, { messages }) {
  const filter = choice("Show", { name: "status", id: "request-status" }, STATUSES);
  const list = h("ol", { class: "request-list", id: "data-requests", "aria-label": "Data requests" });
  replace(
    container,
    card("requests-title", "Patients' requests about their data",
      h("p", {}, "Access, correction and erasure requests (GDPR articles 15-17, HIPAA's rights of access and amendment). Medical records are kept for the legal retention period: erasure closes the account and restricts the record instead of deleting it."),
      h("div", { class: "row" }, filter),
      list),
  );
  const select = filter.querySelector("select");
  const load = async () => {
    const requests = await api(`/api/v1/data-requests${query({ status: select.value })}`);
    const cards = [];
    for (const request of requests) cards.push(await requestCard(request, { messages, onAnswered: load }));
    replace(list, cards.length ? cards : h("li", {}, emptyState("No request here.")));
  };
  select.addEventListener("change", () => act(messages, load));
  await load();
}
