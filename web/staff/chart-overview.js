// The chart's overview: demographics and identifiers, allergies, the problem list (ICD-10) and the
// medicines the patient takes, each with its form to add to it.

import { emptyState } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { card, choice, field, onSubmit, textArea } from "../shared/forms.js";
import { formatDate } from "../shared/time.js";
import { word } from "../shared/words.js";
import { icd10Picker } from "./icd10-picker.js";

const CRITICALITY = [["unable-to-assess", "Risk not assessed"], ["low", "Low risk"], ["high", "High risk"]];
const CATEGORY = [["medication", "Medicine"], ["food", "Food"], ["environment", "Environment"], ["biologic", "Biologic"]];

function facts(pairs) {
  const shown = pairs.filter(([, value]) => value);
  return shown.length ? h("dl", { class: "facts" }, shown.map(([label, value]) => [h("dt", {}, label), h("dd", {}, value)])) : emptyState("Nothing recorded.");
}

function languageName(tag) {
  if (!tag) return null;
  try {
    return `${new Intl.DisplayNames([navigator.language], { type: "language" }).of(tag)} (${tag})`;
  } catch {
    return tag; // not a tag the browser knows: shown as recorded
  }
}

function demographics(patient) {
  const address = [patient.address_line1, patient.address_line2, patient.city, patient.region, patient.postal_code, patient.country].filter(Boolean).join(", ");
  const emergency = patient.emergency_contact_name
    ? `${patient.emergency_contact_name}${patient.emergency_contact_relationship ? ` (${patient.emergency_contact_relationship})` : ""}${patient.emergency_contact_phone ? `, ${patient.emergency_contact_phone}` : ""}`
    : null;
  return facts([
    ["Phone", patient.phone],
    ["Email", patient.email],
    ["Address", address],
    ["Language", languageName(patient.preferred_language)],
    ["Emergency contact", emergency],
  ]);
}

function addForm(summary, form) {
  return h("details", { class: "inline-form" }, h("summary", {}, summary), form);
}

function allergyList(allergies) {
  return allergies.length
    ? h("ul", { class: "list", id: "allergy-list" }, allergies.map((a) =>
        h("li", {}, h("div", {}, h("strong", {}, a.substance_text), h("div", { class: "meta" },
          [word("criticality", a.criticality), a.category ? word("allergyCategory", a.category) : null, a.reaction].filter(Boolean).join(" · "))))))
    : emptyState("No known allergies.");
}

function allergyForm(chart, redraw) {
  const form = h("form", { class: "stack", id: "allergy-form" },
    field("Substance", { name: "substance_text", required: true, maxlength: 200, autocomplete: "off" }),
    h("div", { class: "row" }, choice("Kind", { name: "category" }, CATEGORY), choice("Risk", { name: "criticality" }, CRITICALITY)),
    field("Reaction", { name: "reaction", maxlength: 4000, autocomplete: "off" }),
    h("div", {}, h("button", { type: "submit" }, "Record allergy")));
  onSubmit(form, chart.messages, async (data) => {
    await api(`/api/v1/patients/${chart.patient.id}/allergies`, { method: "POST", json: data });
    form.reset();
    await Promise.all([redraw(), chart.refreshHeader()]);
    return `Allergy to ${data.substance_text} recorded.`;
  });
  return form;
}

function problemList(conditions) {
  const current = conditions.filter((c) => c.clinical_status !== "entered-in-error");
  return current.length
    ? h("ul", { class: "list", id: "problem-list" }, current.map((c) =>
        h("li", {}, h("div", {}, h("strong", {}, `${c.display}`), h("div", { class: "meta" },
          [`ICD-10 ${c.icd10_code}`, word("condition", c.clinical_status), c.onset_date ? `since ${formatDate(c.onset_date)}` : null].filter(Boolean).join(" · "))))))
    : emptyState("No problems recorded.");
}

function problemForm(chart, redraw) {
  const picker = icd10Picker({ label: "Problem (ICD-10)" });
  const form = h("form", { class: "stack", id: "problem-form" }, picker,
    field("Since", { name: "onset_date", type: "date" }),
    textArea("Note", { name: "note", maxlength: 4000, rows: 2 }),
    h("div", {}, h("button", { type: "submit" }, "Add to problem list")));
  onSubmit(form, chart.messages, async (data) => {
    if (!data.icd10_code) throw Object.assign(new Error("Choose a code from the list under the search box."), { title: "Choose an ICD-10 code" });
    const added = await api(`/api/v1/patients/${chart.patient.id}/conditions`, { method: "POST", json: data });
    form.reset();
    picker.reset();
    await redraw();
    return `${added.display} (${added.icd10_code}) added to the problem list.`;
  });
  return form;
}

function medicationList(medications) {
  const current = medications.filter((m) => ["active", "on-hold", "intended"].includes(m.status));
  return current.length
    ? h("ul", { class: "list", id: "medication-list" }, current.map((m) =>
        h("li", {}, h("div", {}, h("strong", {}, m.name), h("div", { class: "meta" },
          [m.dose_text, m.route, m.status === "active" ? null : word("medication", m.status), m.started_on ? `since ${formatDate(m.started_on)}` : null].filter(Boolean).join(" · "))))))
    : emptyState("No current medicines recorded.");
}

function medicationForm(chart, redraw) {
  const form = h("form", { class: "stack", id: "medication-form" },
    field("Medicine", { name: "name", required: true, maxlength: 200, autocomplete: "off" }),
    h("div", { class: "row" }, field("Dose and frequency", { name: "dose_text", maxlength: 200, placeholder: "5 mg once daily" }), field("Route", { name: "route", maxlength: 64, placeholder: "oral" })),
    field("Since", { name: "started_on", type: "date" }),
    h("div", {}, h("button", { type: "submit" }, "Record medicine")));
  onSubmit(form, chart.messages, async (data) => {
    await api(`/api/v1/patients/${chart.patient.id}/medications`, { method: "POST", json: data });
    form.reset();
    await redraw();
    return `${data.name} recorded as a current medicine.`;
  });
  return form;
}

export async function render(panel, chart) {
  const base = `/api/v1/patients/${chart.patient.id}`;
  const [identifiers, allergies, conditions, medications] = await Promise.all([
    api(`${base}/identifiers`), api(`${base}/allergies`), api(`${base}/conditions`), api(`${base}/medications`),
  ]);
  const allergyArea = h("div", {}, allergyList(allergies.filter((a) => a.status === "active")));
  const problemArea = h("div", {}, problemList(conditions));
  const medicationArea = h("div", {}, medicationList(medications));
  const redrawAllergies = async () => replace(allergyArea, allergyList((await api(`${base}/allergies`)).filter((a) => a.status === "active")));
  const redrawProblems = async () => replace(problemArea, problemList(await api(`${base}/conditions`)));
  const redrawMedications = async () => replace(medicationArea, medicationList(await api(`${base}/medications`)));
  const clinical = chart.isClinician || chart.user.role === "nurse";
  replace(
    panel,
    h("div", { class: "chart-columns" },
      card("demographics-title", "Contact details", demographics(chart.patient),
        h("h3", {}, "Identifiers"),
        facts([["MRN", chart.patient.mrn], ...identifiers.map((i) => [i.type_text ?? i.system, i.value])])),
      card("allergies-title", "Allergies", allergyArea, clinical ? addForm("Record an allergy", allergyForm(chart, redrawAllergies)) : null),
      card("problems-title", "Problems", problemArea, chart.isClinician ? addForm("Add a problem", problemForm(chart, redrawProblems)) : null),
      card("medications-title", "Current medicines", medicationArea,
        h("p", { class: "footer-note" }, "What the patient takes; prescriptions are written in an encounter."),
        clinical ? addForm("Record a medicine the patient takes", medicationForm(chart, redrawMedications)) : null),
    ),
  );
}
