// An encounter's diagnoses (ICD-10, ranked) and prescriptions. Prescribing something the patient is
// recorded as allergic to is refused by the server until the prescriber confirms, here, that they
// have read the warning.

import { api, ApiError } from "../shared/api.js";
import { confirmAction } from "../shared/confirm.js";
import { h, replace } from "../shared/dom.js";
import { choice, field, onSubmit } from "../shared/forms.js";
import { formatDateTime } from "../shared/time.js";
import { word } from "../shared/words.js";
import { icd10Picker } from "./icd10-picker.js";

const UNITS = ["mg", "g", "ug", "mL", "L", "[iU]", "unit", "mmol", "tablet", "capsule", "puff", "drop", "patch", "sachet"];
const ROUTES = ["oral", "sublingual", "buccal", "iv", "im", "sc", "intradermal", "inhaled", "nasal", "topical", "transdermal", "ophthalmic", "otic", "rectal"];
const PERIODS = [["d", "a day"], ["h", "an hour"], ["wk", "a week"]];

/** "500 mg by mouth, 3 times a day for 7 days" */
export function describePrescription(p) {
  const every = p.frequency.period === 1 ? `a ${word("periodUnit", p.frequency.period_unit)}` : `every ${p.frequency.period} ${word("periodUnit", p.frequency.period_unit)}s`;
  const often = `${p.frequency.count === 1 ? "once" : p.frequency.count === 2 ? "twice" : `${p.frequency.count} times`} ${every}`;
  return [
    `${p.dose.quantity} ${word("doseUnit", p.dose.unit)} ${word("route", p.route).toLowerCase()}`,
    p.frequency.as_needed ? `up to ${often}, when needed` : often,
    p.duration_days ? `for ${p.duration_days} days` : "until stopped",
  ].join(", ");
}

function diagnosisList(diagnoses) {
  return diagnoses.length
    ? h("ol", { class: "list", "aria-label": "Diagnoses" }, diagnoses.map((d) =>
        h("li", {}, h("div", {}, h("strong", {}, d.display), h("div", { class: "meta" }, `${d.code} · ${d.primary ? "primary diagnosis" : `rank ${d.rank}`}`)))))
    : h("p", { class: "empty" }, "No diagnosis recorded.");
}

function diagnosisForm(encounter, ctx) {
  const picker = icd10Picker();
  const form = h("form", { class: "stack", "aria-label": "Add a diagnosis" }, picker, h("div", {}, h("button", { type: "submit", class: "button-quiet" }, "Add diagnosis")));
  onSubmit(form, ctx.messages, async (data) => {
    if (!data.icd10_code) throw Object.assign(new Error("Choose a code from the list under the search box."), { title: "Choose an ICD-10 code" });
    const added = await api(`/api/v1/encounters/${encounter.id}/diagnoses`, { method: "POST", json: { code: data.icd10_code } });
    await ctx.redraw();
    return `Diagnosis ${added.code} ${added.display} recorded.`;
  });
  return h("details", { class: "inline-form" }, h("summary", {}, "Add a diagnosis"), form);
}

function prescriptionList(prescriptions) {
  return prescriptions.length
    ? h("ul", { class: "list", "aria-label": "Prescriptions" }, prescriptions.map((p) =>
        h("li", { dataset: { prescriptionId: p.id } }, h("div", {},
          h("strong", {}, p.medication.name), ` `, h("span", { class: `status status-${p.status}` }, word("prescription", p.status)),
          h("div", {}, describePrescription(p)),
          h("div", { class: "meta" }, [p.instructions, formatDateTime(p.created_at)].filter(Boolean).join(" · "))))))
    : h("p", { class: "empty" }, "Nothing prescribed.");
}

function prescriptionBody(data) {
  const body = {
    medication: { name: data.medication },
    dose: { quantity: data.quantity, unit: data.unit },
    route: data.route,
    frequency: { count: Number(data.count), period: 1, period_unit: data.period_unit, as_needed: data.as_needed === "on" },
  };
  if (data.duration_days) body.duration_days = Number(data.duration_days);
  if (data.instructions) body.instructions = data.instructions;
  return body;
}

async function prescribe(encounter, body) {
  try {
    return await api(`/api/v1/encounters/${encounter.id}/prescriptions`, { method: "POST", json: body });
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== "allergy-warning") throw error;
    const allergies = error.problem.allergies ?? [];
    const answer = await confirmAction({
      title: "⚠ Allergy warning",
      message: `${body.medication.name} matches this patient's recorded allergy. Prescribe it only if the benefit outweighs the risk.`,
      details: allergies.map((a) =>
        `${a.substance}: ${word("criticality", a.criticality).toLowerCase()}${a.reaction ? `, ${a.reaction}` : ""}${a.reason === "same substance" ? "" : ` (both are ${a.reason})`}`),
      confirmLabel: "Prescribe despite the allergy",
      danger: true,
    });
    if (!answer) return null;
    return api(`/api/v1/encounters/${encounter.id}/prescriptions`, {
      method: "POST",
      json: { ...body, acknowledged_allergy_ids: allergies.map((a) => a.id) },
    });
  }
}

function prescriptionForm(encounter, ctx) {
  const form = h("form", { class: "stack", "aria-label": "Prescribe" },
    field("Medicine", { name: "medication", required: true, maxlength: 200, autocomplete: "off", placeholder: "e.g. Amoxicillin 500 mg capsule" }),
    h("div", { class: "row" },
      field("Dose", { name: "quantity", required: true, inputmode: "decimal", autocomplete: "off", placeholder: "500" }),
      choice("Unit", { name: "unit" }, UNITS.map((u) => [u, word("doseUnit", u)])),
      choice("Route", { name: "route" }, ROUTES.map((r) => [r, word("route", r)]))),
    h("div", { class: "row" },
      field("Times", { name: "count", type: "number", min: 1, max: 48, value: "1", required: true }),
      choice("Per", { name: "period_unit" }, PERIODS),
      field("For (days)", { name: "duration_days", type: "number", min: 1, max: 365, placeholder: "until stopped" })),
    h("label", { class: "switch" }, h("input", { type: "checkbox", name: "as_needed" }), "Only when needed"),
    field("Instructions", { name: "instructions", maxlength: 1000, autocomplete: "off" }),
    h("div", {}, h("button", { type: "submit" }, "Prescribe")));
  onSubmit(form, ctx.messages, async (data) => {
    const written = await prescribe(encounter, prescriptionBody(data));
    if (!written) return "Nothing was prescribed.";
    form.reset();
    await ctx.redraw();
    return `${written.medication.name} prescribed: ${describePrescription(written)}.`;
  });
  return h("details", { class: "inline-form", open: true }, h("summary", {}, "Prescribe"), form);
}

/** Diagnoses and prescriptions of an encounter, drawn into `region`. */
export async function renderOrders(region, encounter, chart, messages) {
  const ctx = { chart, messages, redraw: () => renderOrders(region, encounter, chart, messages) };
  const [diagnoses, prescriptions] = await Promise.all([
    api(`/api/v1/encounters/${encounter.id}/diagnoses`),
    api(`/api/v1/encounters/${encounter.id}/prescriptions`),
  ]);
  const clinician = chart.isClinician;
  replace(
    region,
    h("h3", {}, "Diagnoses"),
    diagnosisList(diagnoses),
    clinician && ["in_progress", "finished"].includes(encounter.status) ? diagnosisForm(encounter, ctx) : null,
    h("h3", {}, "Prescriptions"),
    prescriptionList(prescriptions.items),
    clinician && encounter.status === "in_progress" ? prescriptionForm(encounter, ctx) : null,
  );
}
