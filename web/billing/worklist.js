// "To bill": the office's day. Finished visits not yet charged (charge them from the fee schedule),
// charged visits a payer could be claimed from, and patients with charges to put on an invoice.

import { emptyState, showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { card } from "../shared/forms.js";
import { formatDateTime } from "../shared/time.js";
import { word } from "../shared/words.js";
import { formDialog, problem } from "./dialogs.js";
import { money, patientCell, responsive, statusChip } from "./office.js";

const AWAITING = new Set(["draft", "submitted", "accepted"]);

function minutes(seconds) {
  return seconds === null ? "" : `${Math.max(1, Math.round(seconds / 60))} min`;
}

function visitCell(encounter) {
  return h("div", {}, h("strong", {}, formatDateTime(encounter.started_at)),
    h("div", { class: "meta" }, [word("encounterClass", encounter.encounter_class), minutes(encounter.duration_s), encounter.practitioner_name].filter(Boolean).join(" · ")));
}

function table(id, caption, columns, rows, empty) {
  if (!rows.length) return emptyState(empty);
  return responsive(h("div", { class: "table-wrap" }, h("table", { id },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows))));
}

async function chargeVisit(encounter, office, redraw) {
  const procedures = (await api("/api/v1/billing/services?kind=procedure")).filter((s) => s.active);
  const created = await formDialog({
    title: `Charge the visit of ${encounter.patient_name}`,
    intro: `${formatDateTime(encounter.started_at)}, ${minutes(encounter.duration_s)} with ${encounter.practitioner_name}. Each part is charged once, at the fee schedule's price on the day of the visit.`,
    fields: [
      h("label", { class: "switch" }, h("input", { type: "checkbox", name: "consultation", checked: true }), "The consultation, by its duration"),
      h("label", { class: "switch" }, h("input", { type: "checkbox", name: "lab_orders", checked: true }), "The laboratory tests ordered in the visit"),
      procedures.length
        ? h("fieldset", {}, h("legend", {}, "Procedures done in the visit"), procedures.map((p) =>
            h("label", { class: "switch" }, h("input", { type: "checkbox", name: "procedure", value: p.code }), `${p.code} ${p.display}`)))
        : null,
    ],
    submitLabel: "Charge",
    submit: async (data, form) => {
      const body = {
        consultation: form.elements.consultation.checked,
        lab_orders: form.elements.lab_orders.checked,
        procedures: [...form.querySelectorAll("input[name=procedure]:checked")].map((c) => ({ code: c.value, quantity: 1 })),
      };
      if (!body.consultation && !body.lab_orders && !body.procedures.length) throw problem("Nothing to charge", "Tick what to charge.");
      return api(`/api/v1/billing/encounters/${encounter.id}/charges`, { method: "POST", json: body });
    },
  });
  if (!created) return;
  const lines = created.created.map((c) => `${c.code} ${c.description} ${money(c.quantity * c.unit_price_minor, c.currency)}`);
  await redraw();
  showNotice(office.messages, created.created.length
    ? `Charged ${encounter.patient_name}: ${lines.join("; ")}.`
    : "Everything asked for was charged before; nothing new was charged.");
}

async function startClaim(encounter, office, redraw) {
  const coverages = (await api(`/api/v1/patients/${encounter.patient_id}/coverages`)).filter((c) => c.status === "active");
  if (!coverages.length) {
    throw problem("No active coverage", `${encounter.patient_name} has no active insurance coverage: add one under Payers and coverages first.`);
  }
  const payers = new Map((await api("/api/v1/insurance/payers")).map((p) => [p.id, p.name]));
  const claim = await formDialog({
    title: `Claim the visit of ${encounter.patient_name}`,
    intro: "The claim carries the visit's ICD-10 diagnoses and its charges not yet on the patient's invoice. It starts as a draft; submit it from Claims.",
    fields: [h("label", {}, "Coverage", h("select", { name: "coverage_id" }, coverages.map((c) =>
      h("option", { value: c.id }, `${payers.get(c.payer_id) ?? "Payer"}: ${c.plan_name}, member ${c.member_id}${c.priority > 1 ? ` (rank ${c.priority})` : ""}`))))],
    submitLabel: "Draft claim",
    submit: (data) => api("/api/v1/insurance/claims", { method: "POST", json: { encounter_id: encounter.id, coverage_id: data.coverage_id } }),
  });
  if (!claim) return;
  await redraw();
  showNotice(office.messages, `Claim ${claim.number} drafted for ${money(claim.total_minor, claim.currency)}: submit it from Claims.`);
}

async function draftInvoice(account, office) {
  const page = await api(`/api/v1/billing/charges?patient_id=${account.patient_id}&uninvoiced=true&limit=100`);
  const held = new Set(account.held_charge_ids);
  const invoice = await formDialog({
    title: `Invoice ${account.name}`,
    intro: "Tick the charges to put on the draft. Charges on a claim awaiting the payer are the payer's to decide first.",
    fields: [h("fieldset", {}, h("legend", {}, "Charges not yet invoiced"), page.items.map((c) =>
      h("label", { class: "switch" }, h("input", { type: "checkbox", name: "charge", value: c.id, checked: !held.has(c.id), disabled: held.has(c.id) }),
        `${c.service_date} · ${c.code} ${c.description} · ${c.quantity} × ${money(c.unit_price_minor, c.currency)}${held.has(c.id) ? " (on a claim)" : ""}`)))],
    submitLabel: "Draft invoice",
    submit: async (data, form) => {
      const ids = [...form.querySelectorAll("input[name=charge]:checked")].map((c) => c.value);
      if (!ids.length) throw problem("No charge chosen", "Tick at least one charge to invoice.");
      return api("/api/v1/billing/invoices", { method: "POST", json: { patient_id: account.patient_id, charge_ids: ids } });
    },
  });
  if (!invoice) return;
  office.show("invoices", { patient: { id: account.patient_id, name: account.name } });
  showNotice(office.messages, `Draft invoice for ${account.name}: ${money(invoice.total_minor, invoice.currency)}. Check it, then issue it.`);
}

export async function render(panel, office) {
  const redraw = () => render(panel, office);
  const guard = (work) => () => work().catch((error) => showError(office.messages, error));
  const [toCharge, charged, accounts] = await Promise.all([
    api("/api/v1/billing/encounters?charged=false&limit=50"),
    api("/api/v1/billing/encounters?charged=true&limit=50"),
    api("/api/v1/billing/patients?limit=50"),
  ]);
  const claimable = charged.items.filter((e) => e.uninvoiced_charges > 0 && !e.claims.some((c) => AWAITING.has(c.status)));
  replace(
    panel,
    card("to-charge-title", "Finished visits to charge", table("to-charge", "Finished visits with nothing charged yet, newest first", ["Visit", "Patient", ""],
      toCharge.items.map((e) => h("tr", { dataset: { encounterId: e.id } }, h("td", {}, visitCell(e)), h("td", {}, patientCell(e.patient_name, e.patient_mrn)),
        h("td", {}, h("button", { type: "button", onclick: guard(() => chargeVisit(e, office, redraw)) }, "Charge…")))),
      "Every finished visit has been charged.")),
    card("accounts-title", "Patients with charges to invoice or a balance", table("accounts", "Patients by name", ["Patient", "Charges to invoice", "On claims", "Owed on invoices", ""],
      accounts.map((a) => h("tr", { dataset: { patientId: a.patient_id } }, h("td", {}, patientCell(a.name, a.mrn, a.birth_date)),
        h("td", {}, a.open_charges ? `${a.open_charges} · ${money(a.open_charges_minor, a.currency)} before tax` : "none"),
        h("td", {}, a.held_charges ? `${a.held_charges} awaiting the payer` : "none"),
        h("td", {}, a.open_invoices ? `${money(a.balance_minor, a.currency)} on ${a.open_invoices} invoice${a.open_invoices === 1 ? "" : "s"}` : "nothing"),
        h("td", { class: "actions" },
          a.open_charges ? h("button", { type: "button", onclick: guard(() => draftInvoice(a, office)) }, "Draft invoice…") : null,
          h("button", { type: "button", class: "button-quiet", onclick: () => office.show("invoices", { patient: { id: a.patient_id, name: a.name } }) }, "Invoices")))),
      "No patient has charges to invoice or an open balance.")),
    card("claimable-title", "Charged visits and their claims", table("claimable", "Charged visits, newest first: a visit with charges not yet invoiced can be claimed from the patient's insurer", ["Visit", "Patient", "Charged", "Claims", ""],
      charged.items.map((e) => h("tr", { dataset: { encounterId: e.id } }, h("td", {}, visitCell(e)), h("td", {}, patientCell(e.patient_name, e.patient_mrn)),
        h("td", {}, `${e.charges} charge${e.charges === 1 ? "" : "s"}, ${e.uninvoiced_charges} not invoiced`),
        h("td", {}, e.claims.length ? e.claims.map((c) => h("div", {}, `${c.number} `, statusChip("claim", c.status))) : "none"),
        h("td", {}, claimable.includes(e) ? h("button", { type: "button", class: "button-quiet", onclick: guard(() => startClaim(e, office, redraw)) }, "Start a claim…") : null))),
      "No charged visits yet.")),
  );
}
