// Staff claims: submit drafts, download the 837P or FHIR Claim, record the payer's answers.

import { emptyState, showError, showNotice } from "../shared/alerts.js";
import { api, download } from "../shared/api.js";
import { byId, h, replace } from "../shared/dom.js";
import { formatMoney, moneyInput, parseMoney } from "../portal/billing_money.js";
import { bindDialog } from "./dialogs.js";

const guarded = (work) => (...args) => work(...args).catch((error) => showError(byId("messages"), error));
let openAdjudication;

async function act(claim, path, body, notice) {
  await api(`/api/v1/insurance/claims/${claim.id}/${path}`, { method: "POST", json: body });
  showNotice(byId("messages"), notice);
  await showClaims();
}

function actionsFor(claim) {
  const button = (label, work, quiet = false) =>
    h("button", { type: "button", class: quiet ? "button-quiet" : null, onclick: guarded(work) }, label);
  const actions = [];
  if (claim.status === "draft") actions.push(button("Submit", () => act(claim, "submit", undefined, `Claim ${claim.number} submitted.`)));
  if (claim.status === "submitted") {
    actions.push(button("Accepted", () => act(claim, "response", { accepted: true }, `Claim ${claim.number} accepted by the payer.`)));
  }
  if (["submitted", "accepted"].includes(claim.status)) actions.push(button("Adjudicate…", async () => openAdjudication({ claim })));
  if (claim.control_number !== null) {
    actions.push(button("837P", () => download(`/api/v1/insurance/claims/${claim.id}/x12`, `${claim.number}.x12`), true));
  }
  actions.push(button("FHIR", () => download(`/api/v1/insurance/claims/${claim.id}/fhir`, `${claim.number}.json`), true));
  return h("div", { class: "row" }, actions);
}

function claimRow(claim) {
  const money = (minor) => formatMoney(minor, claim.currency);
  return h(
    "tr",
    { dataset: { claimId: claim.id } },
    h("th", { scope: "row" }, claim.number, h("div", { class: "meta" }, claim.lines.map((l) => l.code).join(", "))),
    h("td", {}, claim.payer_name),
    h("td", {}, h("span", { class: "status" }, claim.status), claim.denial_reason ? h("div", { class: "meta" }, claim.denial_reason) : null),
    h("td", {}, money(claim.total_minor)),
    h("td", {}, money(claim.paid_minor)),
    h("td", {}, money(claim.patient_responsibility_minor)),
    h("td", {}, actionsFor(claim)),
  );
}

export async function showClaims() {
  const query = new URLSearchParams({ limit: "50" });
  const status = byId("claim-status").value;
  if (status) query.set("status", status);
  const page = await api(`/api/v1/insurance/claims?${query}`);
  const rows = byId("claim-rows");
  replace(rows, page.items.map(claimRow));
  if (!page.items.length) replace(rows, h("tr", {}, h("td", { colspan: "7" }, emptyState("No claims."))));
}

function lineFields(claim, line) {
  const input = (field, label) =>
    h("label", {}, label, h("input", { name: `${field}-${line.id}`, inputmode: "decimal", required: true, autocomplete: "off" }));
  return h(
    "fieldset",
    { dataset: { lineId: line.id } },
    h("legend", {}, `Line ${line.number}: ${line.code}, charged `, formatMoney(line.charge_minor, claim.currency)),
    h("div", { class: "row" }, input("allowed", "Allowed"), input("paid", "Paid"), input("patient", "Patient share")),
  );
}

export function bindClaims() {
  openAdjudication = bindDialog("adjudication", {
    prepare(form, { claim }) {
      replace(byId("adjudication-what"), `Claim ${claim.number} to ${claim.payer_name}.`);
      replace(byId("adjudication-lines"), claim.lines.map((line) => lineFields(claim, line)));
      for (const line of claim.lines) form.elements[`allowed-${line.id}`].value = moneyInput(line.charge_minor, claim.currency);
    },
    async submit(form, { claim }) {
      const amount = (field, line) => {
        const value = parseMoney(form.elements[`${field}-${line.id}`].value, claim.currency);
        if (value === null) throw new Error(`Line ${line.number}: enter amounts in ${claim.currency}, such as 12.50.`);
        return value;
      };
      const lines = claim.lines.map((line) => ({
        line_id: line.id,
        allowed_minor: amount("allowed", line),
        paid_minor: amount("paid", line),
        patient_responsibility_minor: amount("patient", line),
      }));
      const body = { lines };
      if (form.elements.payer_claim_number.value.trim()) body.payer_claim_number = form.elements.payer_claim_number.value.trim();
      await act(claim, "adjudication", body, `Adjudication of ${claim.number} recorded.`);
    },
  });
  byId("claim-search").addEventListener("click", guarded(showClaims));
}
