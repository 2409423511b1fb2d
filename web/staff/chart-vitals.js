// Vital signs and alarms: the live monitoring view for a patient with a device measuring them, the
// observations charted by hand for everyone (with a form to record a set), and the patient's alarms.

import { emptyState } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { card, field, onSubmit } from "../shared/forms.js";
import { sparkline } from "../shared/sparkline.js";
import { formatDateTime } from "../shared/time.js";
import { VITAL_SIGNS, formatValue } from "../shared/vital-signs.js";
import { describeAlarm } from "./alarm-view.js";
import { startMonitoring } from "./chart-monitoring.js";
import { news2ObservationsCard } from "./chart-news2-observations.js";

const CHARTED = [...VITAL_SIGNS, { key: "weight", code: "29463-7", label: "Weight", unit: "kg", digits: 1 }];
// What each form field is typed in (the server converts and checks ranges).
const INPUT_UNITS = { hr: "/min", spo2: "%", rr: "/min", sbp: "mm[Hg]", dbp: "mm[Hg]", temp: "Cel", weight: "kg" };

function observationTable(rows) {
  const byTime = new Map();
  for (const row of rows) {
    if (!byTime.has(row.measured_at)) byTime.set(row.measured_at, new Map());
    byTime.get(row.measured_at).set(row.metric_code, row.value);
  }
  const times = [...byTime.keys()].sort((a, b) => b.localeCompare(a));
  const present = CHARTED.filter((sign) => rows.some((r) => r.metric_code === sign.code));
  return h("div", { class: "table-wrap" }, h("table", { id: "observations" },
    h("caption", {}, "Charted observations, newest first"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Taken"), present.map((s) => h("th", { scope: "col" }, `${s.label} `, h("span", { class: "unit" }, `(${s.unit})`))))),
    h("tbody", {}, times.map((time) => h("tr", {}, h("th", { scope: "row" }, formatDateTime(time)),
      present.map((s) => h("td", {}, formatValue(s, byTime.get(time).get(s.code)))))))));
}

function trends(rows) {
  const items = CHARTED.map((sign) => {
    const points = rows.filter((r) => r.metric_code === sign.code).map((r) => ({ t: Date.parse(r.measured_at), v: r.value })).sort((a, b) => a.t - b.t);
    if (points.length < 2) return null;
    const last = points.at(-1).t;
    return h("li", {}, h("div", {}, h("strong", {}, sign.label), h("div", { class: "meta" }, `${points.length} observations, latest ${formatValue(sign, points.at(-1).v)} ${sign.unit}`)),
      h("span", { class: "trend" }, sparkline(points, { now: last, windowMs: last - points[0].t + 1, label: sign.label })));
  }).filter(Boolean);
  return items.length ? h("ul", { class: "list" }, items) : null;
}

function recordForm(chart, redraw) {
  const fields = CHARTED.map((s) => field(`${s.label} (${s.unit})`, { name: s.key, inputmode: "decimal", autocomplete: "off" }));
  const form = h("form", { class: "stack", id: "observation-form" }, h("div", { class: "row" }, fields), h("div", {}, h("button", { type: "submit" }, "Record observations")));
  onSubmit(form, chart.messages, async (data) => {
    const readings = CHARTED.filter((s) => data[s.key] !== undefined).map((s) => ({ metric: s.key, value: Number(data[s.key].replace(",", ".")), unit: INPUT_UNITS[s.key] }));
    if (!readings.length) throw Object.assign(new Error("Enter at least one value."), { title: "Nothing to record" });
    const bad = readings.find((r) => !Number.isFinite(r.value));
    if (bad) throw Object.assign(new Error(`${CHARTED.find((s) => s.key === bad.metric).label} must be a number.`), { title: "Please check the form" });
    try {
      await api("/api/v1/recorded-vitals", { method: "POST", json: { patient_id: chart.patient.id, readings } });
    } catch (error) {
      // The server names readings by position ("#/body/readings/1"); the form names them by field.
      for (const problem of error.problem?.errors ?? []) {
        const index = /readings\/(\d+)/.exec(problem.pointer ?? "")?.[1];
        if (index !== undefined) problem.pointer = `#/body/${readings[Number(index)].metric}`;
      }
      throw error;
    }
    form.reset();
    await redraw();
    return `${readings.length} observation${readings.length === 1 ? "" : "s"} recorded.`;
  });
  return h("details", { class: "inline-form" }, h("summary", {}, "Record a set of observations"), form);
}

function alarmList(alarms) {
  const open = alarms.filter((a) => a.status !== "resolved");
  return open.length
    ? h("ul", { class: "list", id: "open-alarms" }, open.map((a) => h("li", {}, h("div", {}, h("strong", {}, describeAlarm(a)), h("div", { class: "meta" }, `${a.priority} priority · ${a.status} · raised ${formatDateTime(a.raised_at)}`)))))
    : emptyState("✓ No open alarm.");
}

export async function render(panel, chart) {
  const observations = h("div", {});
  const redraw = async () => {
    const page = await api(`/api/v1/recorded-vitals?patient_id=${chart.patient.id}&limit=100`);
    replace(observations, page.items.length ? [trends(page.items), observationTable(page.items)] : emptyState("No observations charted by hand."));
  };
  const live = h("div", { id: "monitoring" });
  const clinical = chart.isClinician || chart.user.role === "nurse";
  replace(
    panel,
    clinical ? await news2ObservationsCard(chart) : null,
    chart.monitored ? live : null,
    chart.monitored ? null : card("alarms-list-title", "Alarms", alarmList(await api(`/api/v1/alarms?patient_id=${chart.patient.id}`)),
      h("p", { class: "footer-note" }, "No device is measuring this patient now, so there are no live charts.")),
    card("observations-title", "Charted observations", observations, clinical ? recordForm(chart, redraw) : null),
  );
  if (chart.monitored) {
    chart.feed?.stop();
    chart.feed = startMonitoring(live, chart);
  }
  await redraw();
}
