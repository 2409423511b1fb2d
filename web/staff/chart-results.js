// Laboratory: the patient's orders with their results (abnormal values flagged in words and colour),
// the trend of every test measured more than once, and ordering tests from the catalogue.

import { emptyState } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { card, choice, field, onSubmit } from "../shared/forms.js";
import { sparkline } from "../shared/sparkline.js";
import { formatDate, formatDateTime } from "../shared/time.js";
import { displayUnit, word } from "../shared/words.js";

const SHOWN_ORDERS = 20;
const CRITICAL = new Set(["HH", "LL", "AA"]);

function flag(result) {
  const code = result?.abnormal_flag;
  if (!code || code === "N") return null;
  const kind = CRITICAL.has(code) ? "flag-critical" : "flag-high";
  const arrow = code.startsWith("H") ? "▲ " : code.startsWith("L") ? "▼ " : "! ";
  return h("span", { class: `flag ${kind}` }, arrow + word("flag", code));
}

function range(result) {
  if (result.reference_text) return result.reference_text;
  if (result.reference_low !== null && result.reference_high !== null) return `${result.reference_low}–${result.reference_high}`;
  if (result.reference_high !== null) return `up to ${result.reference_high}`;
  if (result.reference_low !== null) return `from ${result.reference_low}`;
  return "";
}

function trendOf(points, label) {
  if (points.length < 2) return null;
  const first = points[0].t;
  const last = points.at(-1).t;
  return h("span", { class: "trend" }, sparkline(points, { now: last, windowMs: last - first + 1, label }));
}

function resultRows(order, series) {
  return order.items.map((item) => {
    const result = item.result;
    const abnormal = result && result.abnormal_flag && result.abnormal_flag !== "N";
    return h(
      "tr",
      { class: abnormal ? "abnormal" : null, dataset: { loinc: item.loinc_code } },
      h("th", { scope: "row" }, item.display),
      h("td", {}, result ? h("strong", {}, `${result.value}`) : h("span", { class: "meta" }, "awaited"), result?.unit ? ` ${displayUnit(result.unit)}` : ""),
      h("td", {}, result ? range(result) : ""),
      h("td", {}, flag(result) ?? (result ? "Normal" : "")),
      h("td", {}, trendOf(series.get(item.loinc_code) ?? [], item.display)),
    );
  });
}

/** When the order's sample was taken: as the results report it, else as the laboratory recorded it. */
function takenAt(order) {
  const observed = order.items.map((i) => i.result?.observed_at).filter(Boolean).sort();
  return observed[0] ?? order.collected_at;
}

function orderCard(order, series, practitioners) {
  const who = practitioners.get(order.ordering_practitioner_id)?.name ?? "";
  return h(
    "article",
    { class: "card lab-order", dataset: { orderId: order.id } },
    h("h3", {}, `${takenAt(order) ? "Sample taken" : "Ordered"} ${formatDateTime(takenAt(order) ?? order.created_at)} · `, h("span", { class: `status status-${order.status}` }, word("labOrder", order.status))),
    h("p", { class: "meta" }, [`Order ${order.placer_order_number}`, word("priority", order.priority), who ? `ordered by ${who}` : null, order.clinical_note].filter(Boolean).join(" · ")),
    h("div", { class: "table-wrap" }, h("table", {},
      h("caption", { class: "visually-hidden" }, `Results of order ${order.placer_order_number}`),
      h("thead", {}, h("tr", {}, ["Test", "Result", "Reference range", "Flag", "Trend"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, resultRows(order, series)))),
  );
}

/** Numeric results of each test across the orders shown, oldest first (for trends). */
function seriesOf(orders) {
  const series = new Map();
  for (const order of orders) {
    for (const item of order.items) {
      const r = item.result;
      if (!r || r.value_numeric === null || r.value_numeric === undefined) continue;
      const t = Date.parse(r.observed_at ?? order.final_at ?? order.created_at);
      if (!series.has(item.loinc_code)) series.set(item.loinc_code, []);
      series.get(item.loinc_code).push({ t, v: Number(r.value_numeric) });
    }
  }
  for (const points of series.values()) points.sort((a, b) => a.t - b.t);
  return series;
}

function trendsCard(orders, series) {
  const names = new Map(orders.flatMap((o) => o.items.map((i) => [i.loinc_code, i])));
  const repeated = [...series.entries()].filter(([, points]) => points.length > 1);
  if (!repeated.length) return null;
  return card("trends-title", "Trends",
    h("ul", { class: "list" }, repeated.map(([loinc, points]) =>
      h("li", {}, h("div", {}, h("strong", {}, names.get(loinc).display),
        h("div", { class: "meta" }, points.map((p) => `${p.v} (${formatDate(new Date(p.t).toISOString())})`).join(" → "))),
        trendOf(points, names.get(loinc).display)))));
}

function orderForm(chart, catalogue, encounters, redraw) {
  const filter = h("input", { type: "search", placeholder: "Filter tests", "aria-label": "Filter tests", autocomplete: "off" });
  const checks = h("div", { class: "checks", role: "group", "aria-label": "Tests" },
    catalogue.map((t) => h("label", { dataset: { name: t.display.toLowerCase() } },
      h("input", { type: "checkbox", name: "tests", value: t.loinc_code }), `${t.display} `, h("span", { class: "meta" }, `(${t.specimen})`))));
  filter.addEventListener("input", () => {
    const text = filter.value.trim().toLowerCase();
    for (const label of checks.children) label.hidden = Boolean(text) && !label.dataset.name.includes(text);
  });
  const current = encounters.find((e) => e.status === "in_progress");
  const form = h("form", { class: "stack", id: "lab-order-form" },
    filter, checks,
    h("div", { class: "row" },
      choice("Priority", { name: "priority" }, [["routine", "Routine"], ["urgent", "Urgent"], ["stat", "Immediate (stat)"]]),
      field("Clinical note for the laboratory", { name: "clinical_note", maxlength: 2000, autocomplete: "off" })),
    current ? h("p", { class: "footer-note" }, `Ordered within the encounter in progress (${formatDateTime(current.started_at)}).`) : null,
    h("div", {}, h("button", { type: "submit" }, "Order tests")));
  onSubmit(form, chart.messages, async (data, element) => {
    const tests = [...element.querySelectorAll("input[name=tests]:checked")].map((c) => c.value);
    if (!tests.length) throw Object.assign(new Error("Tick at least one test to order."), { title: "No test chosen" });
    const body = { patient_id: chart.patient.id, tests, priority: data.priority };
    if (data.clinical_note) body.clinical_note = data.clinical_note;
    if (current) body.encounter_id = current.id;
    const order = await api("/api/v1/lab-orders", { method: "POST", json: body });
    await redraw();
    return `Ordered ${tests.length} test${tests.length === 1 ? "" : "s"} (order ${order.placer_order_number}, ${word("priority", order.priority).toLowerCase()}).`;
  });
  return h("details", { class: "inline-form" }, h("summary", {}, "Order laboratory tests"), form);
}

export async function render(panel, chart) {
  const redraw = () => render(panel, chart);
  const [page, catalogue, encounters] = await Promise.all([
    api(`/api/v1/lab-orders?patient_id=${chart.patient.id}&limit=${SHOWN_ORDERS}`),
    chart.isClinician ? api("/api/v1/lab/catalogue") : Promise.resolve([]),
    chart.isClinician ? api(`/api/v1/encounters?patient_id=${chart.patient.id}&status=in_progress&limit=5`) : Promise.resolve({ items: [] }),
  ]);
  const orders = await Promise.all(page.items.map((o) => api(`/api/v1/lab-orders/${o.id}`)));
  const when = (order) => takenAt(order) ?? order.created_at;
  orders.sort((a, b) => when(b).localeCompare(when(a)));
  const series = seriesOf(orders);
  replace(
    panel,
    chart.isClinician ? card("order-title", "Order tests", orderForm(chart, catalogue, encounters.items, redraw)) : null,
    trendsCard(orders, series),
    h("section", { "aria-labelledby": "orders-title" },
      h("h2", { id: "orders-title" }, "Laboratory orders and results"),
      orders.length ? orders.map((o) => orderCard(o, series, chart.practitioners)) : emptyState("No laboratory orders.")),
  );
}
