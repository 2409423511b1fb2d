// The fee schedule: each billable code with its kind, what it bills (a consultation's duration band,
// a lab test's LOINC code) and its price today; add a code, add a dated price, take a code out of use.

import { clearMessages, emptyState, showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { confirmAction } from "../shared/confirm.js";
import { h, replace } from "../shared/dom.js";
import { card, choice, field, onSubmit } from "../shared/forms.js";
import { dateInputValue, formatDate } from "../shared/time.js";
import { word } from "../shared/words.js";
import { formDialog, problem } from "./dialogs.js";
import { amountOf, money, responsive } from "./office.js";

const KINDS = ["consultation", "procedure", "lab_test"];

function priceToday(service) {
  const today = dateInputValue(0);
  return service.prices.find((p) => p.valid_from <= today && (p.valid_to === null || today < p.valid_to));
}

function what(service) {
  if (service.kind === "consultation") {
    return service.max_duration_min === null ? `${service.min_duration_min} minutes or more` : `${service.min_duration_min} to under ${service.max_duration_min} minutes`;
  }
  return service.loinc_code ? `LOINC ${service.loinc_code}` : "";
}

function tax(price) {
  return price.tax_rate_bp === null ? "default tax" : `tax ${price.tax_rate_bp / 100} %`;
}

async function addPrice(service, currency, view) {
  const price = await formDialog({
    title: `New price for ${service.code}`,
    intro: `${service.display}. A price runs from its first day until the day before its end; two prices of one code may not overlap.`,
    fields: [
      h("label", {}, `Amount (${currency})`, h("input", { name: "amount", inputmode: "decimal", required: true, autocomplete: "off" })),
      h("div", { class: "row" }, field("From", { name: "valid_from", type: "date", required: true, value: dateInputValue(0) }), field("Until (exclusive, optional)", { name: "valid_to", type: "date" })),
      field("Tax rate (%), empty for the default", { name: "tax", inputmode: "decimal", autocomplete: "off" }),
    ],
    submitLabel: "Add price",
    submit: (data) => {
      const body = { amount_minor: amountOf(data.amount, currency, "Amount", { allowZero: true }), currency, valid_from: data.valid_from };
      if (data.valid_to) body.valid_to = data.valid_to;
      if (data.tax) {
        const rate = Number(data.tax.replace(",", "."));
        if (!Number.isFinite(rate) || rate < 0 || rate > 100) throw problem("Please check the tax rate", "Tax rate: a percentage from 0 to 100, such as 19.");
        body.tax_rate_bp = Math.round(rate * 100);
      }
      return api(`/api/v1/billing/services/${service.id}/prices`, { method: "POST", json: body });
    },
  });
  if (!price) return;
  await view.redraw();
  showNotice(view.office.messages, `${service.code} costs ${money(price.amount_minor, price.currency)} from ${formatDate(price.valid_from)}.`);
}

async function toggle(service, view) {
  if (service.active && !(await confirmAction({ title: `Take ${service.code} out of use?`, message: "New charges can no longer use it; charges made with it stay.", confirmLabel: "Take out of use", danger: true }))) return;
  clearMessages(view.office.messages);
  try {
    await api(`/api/v1/billing/services/${service.id}`, { method: "PATCH", json: { active: !service.active } });
    await view.redraw();
    showNotice(view.office.messages, `${service.code} is ${service.active ? "out of use" : "in use again"}.`);
  } catch (error) {
    showError(view.office.messages, error);
  }
}

function serviceForm(view) {
  const form = h("form", { class: "stack", id: "service-form" },
    h("div", { class: "row" },
      field("Code", { name: "code", required: true, maxlength: 32, autocomplete: "off" }),
      choice("Kind", { name: "kind" }, KINDS.map((k) => [k, word("serviceKind", k)])),
      field("Description", { name: "display", required: true, maxlength: 255, autocomplete: "off" })),
    h("div", { class: "row" },
      field("Consultations: from minutes", { name: "min_duration_min", type: "number", min: 0 }),
      field("to under minutes (optional)", { name: "max_duration_min", type: "number", min: 1 }),
      field("Lab tests: LOINC code", { name: "loinc_code", maxlength: 10, placeholder: "2345-7" })),
    h("div", {}, h("button", { type: "submit" }, "Add code")));
  onSubmit(form, view.office.messages, async (data) => {
    const body = { ...data };
    for (const name of ["min_duration_min", "max_duration_min"]) if (body[name] !== undefined) body[name] = Number(body[name]);
    const added = await api("/api/v1/billing/services", { method: "POST", json: body });
    form.reset();
    await view.redraw();
    return `${added.code} added: give it a price.`;
  });
  return form;
}

export async function render(panel, office) {
  const view = { office, redraw: () => render(panel, office) };
  const services = await api("/api/v1/billing/services");
  const { currency } = office.settings;
  const rows = services.map((s) => {
    const price = priceToday(s);
    return h("tr", { dataset: { serviceId: s.id, kind: s.kind, text: `${s.code} ${s.display}`.toLowerCase() }, class: s.active ? null : "inactive" },
      h("th", { scope: "row", class: "code" }, s.code), h("td", {}, s.display, s.active ? null : h("div", { class: "meta" }, "out of use")),
      h("td", {}, word("serviceKind", s.kind)), h("td", {}, what(s)),
      h("td", { class: "amount" }, price ? money(price.amount_minor, price.currency) : "no price today", price ? h("div", { class: "meta" }, tax(price)) : null),
      h("td", {}, h("div", { class: "actions nowrap" },
        h("button", { type: "button", class: "button-quiet", onclick: () => addPrice(s, currency, view).catch((e) => showError(office.messages, e)) }, "New price…"),
        h("button", { type: "button", class: "button-quiet", onclick: () => toggle(s, view) }, s.active ? "Take out of use…" : "Use again"))));
  });
  const kind = h("select", { id: "fee-kind" }, h("option", { value: "" }, "Every kind"), KINDS.map((k) => h("option", { value: k }, word("serviceKind", k))));
  const search = h("input", { type: "search", id: "fee-search", autocomplete: "off", placeholder: "code or words" });
  const filter = () => {
    const text = search.value.trim().toLowerCase();
    for (const row of rows) row.hidden = (kind.value && row.dataset.kind !== kind.value) || (text && !row.dataset.text.includes(text));
  };
  kind.addEventListener("change", filter);
  search.addEventListener("input", filter);
  replace(panel,
    card("fees-title", "Fee schedule",
      h("details", { class: "inline-form" }, h("summary", {}, "Add a code"), serviceForm(view)),
      h("div", { class: "row filters" }, h("label", {}, "Kind", kind), h("label", {}, "Find", search)),
      rows.length
        ? responsive(h("div", { class: "table-wrap" }, h("table", { id: "fee-table" }, h("caption", {}, `Billable codes and today's prices (${currency})`),
            h("thead", {}, h("tr", {}, ["Code", "Description", "Kind", "Bills", "Price today", ""].map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, rows))))
        : emptyState("The fee schedule is empty: add the first code above.")));
}
