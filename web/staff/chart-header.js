// The chart's header: who the patient is, their allergies (always in view, as on a paper chart), where
// they are when admitted and monitored, open alarms, and the actions a visit starts with.

import { clearMessages, showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { byId, h, replace } from "../shared/dom.js";
import { ageInYears, formatDate } from "../shared/time.js";
import { word } from "../shared/words.js";
import { renderAppLaunchers } from "./chart-apps.js";

function fact(label, value) {
  return value ? h("div", {}, h("dt", {}, label), h("dd", {}, value)) : null;
}

async function location(patientId) {
  // A bound bedside device places the patient; the ward's name comes from the ward list.
  const devices = await api(`/api/v1/patients/${patientId}/devices`);
  const placed = devices.find((d) => d.ward_id);
  if (!placed) return { monitored: devices.length > 0, text: null, wardId: null };
  const [wards, beds] = await Promise.all([api("/api/v1/wards"), api(`/api/v1/wards/${placed.ward_id}/beds`)]);
  const ward = wards.find((w) => w.id === placed.ward_id);
  const bed = beds.find((b) => b.id === placed.bed_id);
  return { monitored: true, text: [ward?.name, bed?.label].filter(Boolean).join(", "), wardId: placed.ward_id };
}

export async function renderHeader(chart) {
  const { patient } = chart;
  const [allergies, alarms, where] = await Promise.all([
    api(`/api/v1/patients/${patient.id}/allergies`),
    api(`/api/v1/alarms?patient_id=${patient.id}`),
    location(patient.id),
  ]);
  chart.allergies = allergies.filter((a) => a.status === "active");
  chart.monitored = where.monitored;
  const age = ageInYears(patient.birth_date);
  byId("patient-title").textContent = `${patient.given_name} ${patient.family_name}`.trim();
  replace(
    byId("patient-facts"),
    fact("MRN", patient.mrn),
    fact("Born", patient.birth_date ? `${formatDate(patient.birth_date)}${age === null ? "" : ` (${age} years)`}` : "not recorded"),
    fact("Gender", word("gender", patient.gender)),
    fact("Phone", patient.phone),
    where.text
      ? h("div", {}, h("dt", {}, "On"), h("dd", {}, h("a", { href: `/staff/dashboard/?ward=${where.wardId}` }, where.text)))
      : null,
  );
  const banner = byId("allergy-banner");
  banner.hidden = false;
  banner.classList.toggle("none", !chart.allergies.length);
  banner.textContent = chart.allergies.length
    ? `⚠ Allergies: ${chart.allergies.map((a) => `${a.substance_text} (${word("criticality", a.criticality).toLowerCase()}${a.reaction ? `: ${a.reaction}` : ""})`).join("; ")}`
    : "No known allergies recorded.";
  const open = alarms.filter((a) => a.status === "raised" || a.status === "acknowledged");
  const alarmBanner = byId("alarm-banner");
  alarmBanner.hidden = !open.length;
  alarmBanner.textContent = open.length ? `▲ ${open.length} open alarm${open.length === 1 ? "" : "s"}: see Vitals and alarms.` : "";
  renderActions(chart);
}

function renderActions(chart) {
  const actions = [];
  if (chart.isClinician) {
    actions.push(h("button", { type: "button", id: "start-encounter", onclick: () => startWalkIn(chart) }, "Start in-person encounter"));
  }
  actions.push(h("button", { type: "button", class: "button-quiet", onclick: () => chart.show("appointments") }, "Book appointment"));
  replace(byId("chart-actions"), actions);
  renderAppLaunchers(chart).catch((error) => showError(chart.messages, error));
}

async function startWalkIn(chart) {
  clearMessages(chart.messages);
  try {
    // One visit at a time: an encounter of this clinician already under way is continued instead.
    const mine = chart.practitioner ? `&practitioner_id=${chart.practitioner.id}` : "";
    const running = await api(`/api/v1/encounters?patient_id=${chart.patient.id}&status=in_progress${mine}&limit=1`);
    if (running.items.length) {
      chart.show("encounters");
      showNotice(chart.messages, "Your encounter with this patient is already in progress: continue it below.");
      return;
    }
    await api("/api/v1/encounters", {
      method: "POST",
      json: { patient_id: chart.patient.id, encounter_class: "ambulatory" },
    });
    showNotice(chart.messages, "In-person encounter started: write notes, diagnoses and orders below.");
    chart.show("encounters");
    await chart.refresh("encounters");
  } catch (error) {
    showError(chart.messages, error);
  }
}
