// The billing reports: open balances aged past their due date (patients) and claims aged since
// submission (payers), and revenue by period, payer and service. Days are UTC days, as stored.

import { emptyState } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { card, choice, field, onSubmit, query } from "../shared/forms.js";
import { dateInputValue, formatDate } from "../shared/time.js";
import { money } from "./office.js";

const BUCKETS = [["current", "Not yet due"], ["days_1_30", "1–30 days late"], ["days_31_60", "31–60"], ["days_61_90", "61–90"], ["days_over_90", "Over 90"], ["total", "Total"]];

function ageingTable(id, caption, rows, first) {
  if (!rows.length) return emptyState("Nothing open.");
  return h("div", { class: "table-wrap" }, h("table", { id }, h("caption", {}, caption),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, first), BUCKETS.map(([, label]) => h("th", { scope: "col", class: "amount" }, label)), h("th", { scope: "col", class: "amount" }, "Count"))),
    h("tbody", {}, rows.map((r) => h("tr", {}, h("th", { scope: "row" }, r.payer_name ?? `Patients (${r.currency})`),
      BUCKETS.map(([key]) => h("td", { class: "amount" }, money(r[key], r.currency))), h("td", { class: "amount" }, String(r.count)))))));
}

function totals(id, caption, rows, label) {
  if (!rows.length) return emptyState("No revenue in this period.");
  return h("div", { class: "table-wrap" }, h("table", { id }, h("caption", {}, caption),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, label), h("th", { scope: "col", class: "amount" }, "Amount"))),
    h("tbody", {}, rows.map((r) => h("tr", {}, h("th", { scope: "row" }, r.key), h("td", { class: "amount" }, money(r.amount_minor, r.currency)))))));
}

export async function render(panel, office) {
  const ageing = h("div", { id: "ageing" });
  const revenue = h("div", { id: "revenue" });
  const ageingForm = h("form", { class: "row", id: "ageing-form" }, field("Balances as of", { name: "as_of", type: "date", value: dateInputValue(0), required: true }), h("button", { type: "submit" }, "Show ageing"));
  const year = new Date().getFullYear();
  const revenueForm = h("form", { class: "row", id: "revenue-form" },
    field("From", { name: "start", type: "date", value: `${year}-01-01`, required: true }),
    field("Until (exclusive)", { name: "end", type: "date", value: `${year + 1}-01-01`, required: true }),
    choice("By", { name: "granularity" }, [["month", "Month"], ["day", "Day"], ["year", "Year"]]),
    h("button", { type: "submit" }, "Show revenue"));
  const showAgeing = async ({ as_of }) => {
    const report = await api(`/api/v1/billing/reports/ageing${query({ as_of })}`);
    replace(ageing, h("p", { class: "meta" }, `Open balances on ${formatDate(report.as_of)}.`),
      ageingTable("ageing-patients", "Patients' unpaid invoices, by days past the due date", report.patients, "Owed by"),
      ageingTable("ageing-payers", "Claims awaiting the payer, by days since submission", report.payers, "Payer"));
  };
  const showRevenue = async (params) => {
    const report = await api(`/api/v1/billing/reports/revenue${query(params)}`);
    replace(revenue, h("p", { class: "meta" }, `${formatDate(report.start)} to ${formatDate(report.end)} (not included), by ${report.granularity}.`),
      h("div", { class: "report-columns" },
        totals("revenue-periods", "By period", report.by_period, "Period"),
        totals("revenue-payers", "By payer", report.by_payer, "Payer"),
        totals("revenue-services", "By service", report.by_service, "Service code")));
  };
  onSubmit(ageingForm, office.messages, showAgeing);
  onSubmit(revenueForm, office.messages, showRevenue);
  replace(panel, card("ageing-title", "Ageing", ageingForm, ageing), card("revenue-title", "Revenue", revenueForm, revenue));
  await Promise.all([showAgeing({ as_of: dateInputValue(0) }), showRevenue({ start: `${year}-01-01`, end: `${year + 1}-01-01`, granularity: "month" })]);
}
