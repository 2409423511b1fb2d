// The patient chart's NEWS2 observations card: when the next full set is due and the time since the
// last one, a link to chart a set, and the SpO2 scale in use with who chose it and why. A clinician
// (only) may change the scale, with the reason; the server refuses anyone else.

import { emptyState } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { card, choice, field, onSubmit } from "../shared/forms.js";
import { formatDateTime } from "../shared/time.js";
import { word } from "../shared/words.js";
import { scheduleLine } from "./observation-schedule.js";

function scaleText(scale) {
  if (scale.scale !== 2) return "SpO₂ scale 1 (the usual scale).";
  return `SpO₂ scale 2, target 88–92%, since ${formatDateTime(scale.set_at)}: ${scale.reason}`;
}

function scaleForm(chart, scale, redraw) {
  const other = scale.scale === 2 ? 1 : 2;
  const form = h(
    "form",
    { id: "spo2-scale-form", class: "stack scale-form", novalidate: true },
    choice("SpO₂ scale", { name: "scale" }, [[String(other), `Scale ${other}`], [String(scale.scale), `Scale ${scale.scale}`]]),
    field("Reason", { name: "reason", autocomplete: "off", placeholder: "e.g. hypercapnic respiratory failure, target 88–92%" }),
    h("div", {}, h("button", { type: "submit" }, "Set the scale")),
  );
  onSubmit(form, chart.messages, async (data) => {
    await api(`/api/v1/patients/${chart.patient.id}/spo2-scale`, { method: "PUT", json: { scale: Number(data.scale), reason: data.reason ?? "" } });
    await redraw();
    return `SpO₂ scale ${data.scale} set.`;
  });
  return h("details", { class: "inline-form" }, h("summary", {}, "Change the SpO₂ scale"), form);
}

const RECENT_SETS = 5;

function oxygenText(set) {
  return set.on_oxygen ? `Oxygen, ${word("oxygenDevice", set.oxygen_device).toLowerCase()}, ${set.oxygen_flow_l_min} L/min` : "Air";
}

function number(value, digits = 0) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

const SET_COLUMNS = ["Taken", "Consciousness", "Air or oxygen", "Respiration", "SpO₂", "Blood pressure", "Pulse", "Temperature"];

function recentSets(sets) {
  if (!sets.length) return emptyState("No full set charted yet.");
  const cells = (set) => [
    formatDateTime(set.recorded_at),
    word("consciousness", set.consciousness),
    oxygenText(set),
    `${number(set.respiration_rate)} /min`,
    `${number(set.spo2)} % (scale ${set.spo2_scale})`,
    `${number(set.systolic_bp)}/${number(set.diastolic_bp)} mmHg`,
    `${number(set.pulse)} /min`,
    `${number(set.temperature_c, 1)} °C`,
  ];
  // On a phone each set reads as a card, every value under its column's name.
  return h("div", { class: "table-wrap" }, h("table", { id: "full-sets", class: "stack-on-phone" },
    h("caption", {}, "Recent full sets, newest first"),
    h("thead", {}, h("tr", {}, SET_COLUMNS.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, sets.map((set) => h("tr", {}, cells(set).map((text, i) => h("td", { "data-label": SET_COLUMNS[i] }, text)))))));
}

/** The card, filled once its data is in. */
export async function news2ObservationsCard(chart) {
  const body = h("div", {});
  const redraw = async () => {
    const [news2, scale, sets] = await Promise.all([
      api(`/api/v1/patients/${chart.patient.id}/news2`),
      api(`/api/v1/patients/${chart.patient.id}/spo2-scale`),
      api(`/api/v1/patients/${chart.patient.id}/observation-sets?limit=${RECENT_SETS}`),
    ]);
    const ward = chart.ward ? `&ward=${encodeURIComponent(chart.ward)}` : "";
    replace(
      body,
      scheduleLine(news2),
      h("p", { id: "spo2-scale" }, scaleText(scale)),
      h("p", { class: "actions" }, h("a", { class: "button", id: "chart-observations", href: `/staff/observations/?patient=${encodeURIComponent(chart.patient.id)}${ward}` }, "Chart observations")),
      chart.isClinician ? scaleForm(chart, scale, redraw) : null,
      recentSets(sets),
    );
  };
  await redraw();
  return card("news2-observations-title", "NEWS2 observations", body);
}
