// Analytics: pick a report and a range of days, see it as a table and a bar chart of any numeric
// column, and download it as CSV. Days are UTC days, as the reports count them.

import { showNotice } from "../shared/alerts.js";
import { api, download } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { dateInputValue } from "../shared/time.js";
import { word } from "../shared/words.js";
import { act, card, choice, field, onSubmit, query, table } from "./ui.js";
import { barChart, formatNumber } from "./chart.js";

function nextDay(value) {
  const [year, month, day] = value.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, day + 1)).toISOString().slice(0, 10);
}

// Column names are snake_case identifiers (the CSV keeps them); people read them with spaces.
const readable = (column) => column.replaceAll("_", " ");
// Coded values of some columns, in words (the CSV keeps the codes).
const CODED = { encounter_class: "encounterClass", priority: "priority", kind: "deviceKind" };

function cellText(column, value) {
  if (typeof value === "number") return formatNumber(value);
  if (value === null || value === undefined || value === "") return "–";
  return CODED[column] ? word(CODED[column], value) : value;
}

// A column "<thing>_id" beside a column "<thing>" holds the identifier of what the other names: the
// page shows the name (the CSV keeps both, for joining with other data).
function shownColumns(report) {
  return report.columns
    .map((name, index) => ({ name, index }))
    .filter(({ name }) => !(name.endsWith("_id") && report.columns.includes(name.slice(0, -3))));
}

function numericColumns(report, shown) {
  return shown
    .filter(({ index }) => report.rows.some((row) => typeof row[index] === "number") &&
      report.rows.every((row) => row[index] === null || typeof row[index] === "number"));
}

function labelOf(shown, row, numeric) {
  const parts = shown.filter((c) => !numeric.has(c.index) && row[c.index] !== null && row[c.index] !== "").map((c) => cellText(c.name, row[c.index]));
  return parts.join(" · ") || "(none)";
}

export async function render(container, { messages }) {
  const reports = await api("/api/v1/analytics/reports");
  const form = h(
    "form",
    { class: "row", id: "report-form" },
    choice("Report", { name: "name", required: true }, reports.map((r) => [r.name, r.title])),
    field("From (UTC day)", { name: "start", type: "date", required: true, value: dateInputValue(-30) }),
    field("To (UTC day, included)", { name: "end", type: "date", required: true, value: dateInputValue(0) }),
    h("button", { type: "submit" }, "Show report"),
  );
  const output = h("div", { id: "report", "aria-live": "polite" });
  replace(container, card("report-form-title", "Report", form), output);

  onSubmit(form, messages, async ({ name, start, end }) => {
    const params = query({ start, end: nextDay(end) });
    const report = await api(`/api/v1/analytics/reports/${encodeURIComponent(name)}${params}`);
    draw(output, report, `/api/v1/analytics/reports/${encodeURIComponent(name)}${params}&format=csv`, messages);
  });
}

function draw(output, report, csvPath, messages) {
  const shown = shownColumns(report);
  const numeric = numericColumns(report, shown);
  const numericIndexes = new Set(numeric.map((c) => c.index));
  const chartArea = h("div", { id: "report-chart" });
  const picker = h("select", { name: "column", id: "chart-column" }, numeric.map((c) => h("option", { value: c.index }, readable(c.name))));
  const drawChart = () => {
    const index = Number(picker.value);
    const column = report.columns[index];
    replace(chartArea, barChart(`${report.title}: ${readable(column)}`, report.rows.map((row) => ({ label: labelOf(shown, row, numericIndexes), value: row[index] }))));
  };
  picker.addEventListener("change", drawChart);
  const csv = h("a", { href: csvPath, id: "csv-link", class: "button button-quiet" }, "Download CSV");
  csv.addEventListener("click", (event) => {
    // The CSV needs the bearer token, so the page fetches it and hands the file to the browser.
    event.preventDefault();
    act(messages, async () => `Downloaded ${await download(csvPath, `${report.name}.csv`)}.`);
  });
  const last = nextDayBack(report.end);
  replace(
    output,
    h("section", { class: "card", "aria-labelledby": "report-title" },
      h("h2", { id: "report-title" }, report.title),
      h("p", { class: "meta" }, `${report.start} to ${last} (UTC days), ${report.rows.length} rows.`),
      report.notes.length ? h("ul", { class: "meta" }, report.notes.map((n) => h("li", {}, n))) : null,
      h("div", { class: "actions" }, csv),
      numeric.length && report.rows.length
        ? h("div", {}, h("label", { class: "chart-picker" }, "Chart column", picker), chartArea)
        : null,
      table({
        id: "report-table", caption: report.title, columns: shown.map((c) => readable(c.name)), empty: "No data in this range.",
        rows: report.rows.map((row) => ({ cells: shown.map(({ name, index }) => cellText(name, row[index])) })),
      })),
  );
  if (numeric.length && report.rows.length) drawChart();
  if (!report.rows.length) showNotice(messages, "The report has no rows for this range.");
}

function nextDayBack(end) {
  const [year, month, day] = end.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, day - 1)).toISOString().slice(0, 10);
}
