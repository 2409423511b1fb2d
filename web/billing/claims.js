// Insurance claims: listed with patient and payer names and the status in words; submit a draft
// (after a confirmation), record the payer's acceptance, rejection and adjudication, discard a draft,
// and download the X12 837P (US dollar claims) or the FHIR Claim.

import { clearMessages, emptyState, showError, showNotice } from "../shared/alerts.js";
import { api, download } from "../shared/api.js";
import { confirmAction } from "../shared/confirm.js";
import { h, replace } from "../shared/dom.js";
import { card } from "../shared/forms.js";
import { formatDate } from "../shared/time.js";
import { word } from "../shared/words.js";
import { formDialog, problem } from "./dialogs.js";
import { amountOf, money, moneyInput, patientCell, responsive, statusChip } from "./office.js";

const STATUSES = [["", "Any status"], ...["draft", "submitted", "accepted", "denied", "partially_paid", "paid"].map((s) => [s, word("claim", s)])];

async function step(view, work, notice) {
  clearMessages(view.office.messages);
  try {
    const done = await work();
    if (done === null) return;
    await view.reload();
    showNotice(view.office.messages, notice);
  } catch (error) {
    showError(view.office.messages, error);
  }
}

function rejectDialog(claim) {
  return formDialog({
    title: `${claim.payer_name} rejected ${claim.number}`,
    fields: [h("label", {}, "The payer's reason", h("input", { name: "reason", required: true, maxlength: 500, autocomplete: "off" }))],
    submitLabel: "Record rejection",
    danger: true,
    submit: (data) => {
      if (!data.reason) throw problem("Give the payer's reason", "The payer's reason: copy it from their acknowledgement.");
      return api(`/api/v1/insurance/claims/${claim.id}/response`, { method: "POST", json: { accepted: false, reason: data.reason } });
    },
  });
}

function adjudicationDialog(claim) {
  const line = (l) => h("fieldset", { dataset: { lineId: l.id } },
    h("legend", {}, `Line ${l.number}: ${l.code} ${l.description}, charged ${money(l.charge_minor, claim.currency)}`),
    h("div", { class: "row" },
      h("label", {}, "Allowed", h("input", { name: `allowed-${l.id}`, inputmode: "decimal", autocomplete: "off", value: moneyInput(l.charge_minor, claim.currency) })),
      h("label", {}, "Paid", h("input", { name: `paid-${l.id}`, inputmode: "decimal", autocomplete: "off" })),
      h("label", {}, "Patient share", h("input", { name: `patient-${l.id}`, inputmode: "decimal", autocomplete: "off", value: "0" }))));
  return formDialog({
    id: "adjudication-dialog",
    title: `Adjudication of ${claim.number}`,
    intro: `What ${claim.payer_name} allowed and paid for each line, and what is left to the patient (it becomes a draft invoice).`,
    fields: [...claim.lines.map(line), h("label", {}, "Payer's claim number", h("input", { name: "payer_claim_number", maxlength: 50, autocomplete: "off" }))],
    submitLabel: "Record adjudication",
    submit: (data) => {
      const amount = (field, l, label) => amountOf(data[`${field}-${l.id}`], claim.currency, `Line ${l.number}, ${label}`, { allowZero: true });
      const body = { lines: claim.lines.map((l) => ({
        line_id: l.id,
        allowed_minor: amount("allowed", l, "allowed"),
        paid_minor: amount("paid", l, "paid"),
        patient_responsibility_minor: amount("patient", l, "patient share"),
      })) };
      if (data.payer_claim_number) body.payer_claim_number = data.payer_claim_number;
      return api(`/api/v1/insurance/claims/${claim.id}/adjudication`, { method: "POST", json: body });
    },
  });
}

function actionsFor(claim, view) {
  const base = `/api/v1/insurance/claims/${claim.id}`;
  const button = (text, onclick, quiet = true) => h("button", { type: "button", class: quiet ? "button-quiet" : null, onclick }, text);
  const buttons = [];
  if (claim.status === "draft") {
    buttons.push(button("Submit…", () => step(view, async () => {
      const ok = await confirmAction({ title: `Submit ${claim.number} to ${claim.payer_name}?`, message: `It takes the next interchange control number and can no longer be discarded. ${money(claim.total_minor, claim.currency)} for ${claim.patient_name}.`, confirmLabel: "Submit claim" });
      return ok ? api(`${base}/submit`, { method: "POST" }) : null;
    }, `${claim.number} submitted to ${claim.payer_name}.`), false));
    buttons.push(button("Discard…", () => step(view, async () => {
      const ok = await confirmAction({ title: `Discard ${claim.number}?`, message: "The draft is deleted and its charges can be invoiced to the patient again.", confirmLabel: "Discard draft", danger: true });
      return ok ? api(base, { method: "DELETE" }) : null;
    }, `${claim.number} discarded.`)));
  }
  if (claim.status === "submitted") {
    buttons.push(button("Payer accepted", () => step(view, () => api(`${base}/response`, { method: "POST", json: { accepted: true } }), `${claim.payer_name} accepted ${claim.number}.`)));
    buttons.push(button("Payer rejected…", () => step(view, () => rejectDialog(claim), `${claim.number} recorded as denied.`)));
  }
  if (["submitted", "accepted"].includes(claim.status)) buttons.push(button("Adjudicate…", () => step(view, () => adjudicationDialog(claim), `Adjudication of ${claim.number} recorded.`), false));
  if (claim.control_number !== null && claim.currency === "USD") {
    buttons.push(button("837P", () => download(`${base}/x12`, `${claim.number}.x12`).catch((e) => showError(view.office.messages, e))));
  }
  buttons.push(button("FHIR", () => download(`${base}/fhir`, `${claim.number}.json`).catch((e) => showError(view.office.messages, e))));
  return h("div", { class: "actions" }, buttons);
}

function claimRow(claim, view) {
  const m = (minor) => money(minor, claim.currency);
  const diagnoses = claim.diagnoses.map((d) => d.code).join(", ");
  return h(
    "tr",
    { dataset: { claimId: claim.id } },
    h("th", { scope: "row" }, claim.number, h("div", { class: "meta" }, [claim.submitted_at ? `submitted ${formatDate(claim.submitted_at)}` : null, `diagnoses ${diagnoses}`].filter(Boolean).join(" · "))),
    h("td", {}, patientCell(claim.patient_name, claim.patient_mrn)),
    h("td", {}, claim.payer_name),
    h("td", {}, statusChip("claim", claim.status), claim.denial_reason ? h("div", { class: "meta" }, claim.denial_reason) : null,
      claim.control_number !== null && claim.currency !== "USD" ? h("div", { class: "meta" }, "837P: US dollar claims only") : null),
    h("td", { class: "amount" }, m(claim.total_minor)),
    h("td", { class: "amount" }, claim.adjudicated_at ? m(claim.paid_minor) : "—"),
    h("td", { class: "amount" }, claim.adjudicated_at ? m(claim.patient_responsibility_minor) : "—"),
    h("td", {}, actionsFor(claim, view)),
  );
}

export async function render(panel, office) {
  const view = { office };
  const list = h("div", {});
  const status = h("select", { id: "claim-status" }, STATUSES.map(([value, text]) => h("option", { value }, text)));
  view.reload = async () => {
    const params = new URLSearchParams({ limit: "50" });
    if (status.value) params.set("status", status.value);
    const page = await api(`/api/v1/insurance/claims?${params}`);
    replace(list, page.items.length
      ? responsive(h("div", { class: "table-wrap" }, h("table", { id: "claim-table" },
          h("caption", {}, "Insurance claims, newest first"),
          h("thead", {}, h("tr", {}, ["Claim", "Patient", "Payer", "Status", "Charged", "Paid by payer", "Patient share", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", { id: "claim-rows" }, page.items.map((c) => claimRow(c, view))))))
      : emptyState("No claims. Start one from a charged visit under To bill."));
  };
  status.addEventListener("change", () => view.reload().catch((error) => showError(office.messages, error)));
  replace(panel, card("claims-title", "Insurance claims", h("div", { class: "row filters" }, h("label", {}, "Status", status)), list));
  await view.reload();
}
