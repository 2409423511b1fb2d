// Staff invoices: list, issue drafts, record cash or bank payments, refund payments.

import { emptyState, showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { byId, h, replace } from "../shared/dom.js";
import { formatMoney, moneyInput, parseMoney } from "../portal/billing_money.js";
import { bindDialog } from "./dialogs.js";

let cursor = null;
// Click handlers report their failures on the page instead of leaving them unhandled.
const guarded = (work) => (...args) => work(...args).catch((error) => showError(byId("messages"), error));
let openPayment;
let openRefund;

function amountOf(form, currency) {
  const amount = parseMoney(form.elements.amount.value, currency);
  if (amount === null || amount <= 0) throw new Error(`Enter an amount in ${currency}, such as 12.50.`);
  return amount;
}

function actionsFor(invoice) {
  const actions = [];
  if (invoice.status === "draft") {
    actions.push(h("button", { type: "button", onclick: guarded(() => issue(invoice)) }, "Issue"));
  }
  if (["issued", "partially_paid"].includes(invoice.status)) {
    actions.push(h("button", { type: "button", onclick: () => openPayment({ invoice }) }, "Record payment…"));
  }
  if (invoice.paid_minor > 0 || invoice.status === "paid") {
    actions.push(h("button", { type: "button", class: "button-quiet", onclick: guarded(() => showPayments(invoice)) }, "Payments"));
  }
  return h("div", { class: "row" }, actions);
}

function invoiceRow(invoice) {
  const money = (minor) => formatMoney(minor, invoice.currency);
  return h(
    "tr",
    { dataset: { invoiceId: invoice.id } },
    h("th", { scope: "row" }, invoice.number ?? "Draft", h("div", { class: "meta" }, invoice.lines.map((l) => l.code).join(", "))),
    h("td", {}, h("span", { class: "status" }, invoice.status)),
    h("td", {}, money(invoice.total_minor)),
    h("td", {}, money(invoice.paid_minor)),
    h("td", { class: "balance" }, money(invoice.balance_minor)),
    h("td", {}, invoice.due_date ?? "—"),
    h("td", {}, actionsFor(invoice)),
  );
}

async function issue(invoice) {
  await api(`/api/v1/billing/invoices/${invoice.id}/issue`, { method: "POST" });
  showNotice(byId("messages"), `Invoice issued.`);
  await showInvoices(true);
}

export async function showInvoices(reset) {
  if (reset) cursor = null;
  const query = new URLSearchParams({ limit: "20" });
  const status = byId("invoice-status").value;
  const patient = byId("invoice-patient").value.trim();
  if (status) query.set("status", status);
  if (patient) query.set("patient_id", patient);
  if (cursor) query.set("cursor", cursor);
  const page = await api(`/api/v1/billing/invoices?${query}`);
  const rows = byId("invoice-rows");
  if (reset) replace(rows);
  rows.append(...page.items.map(invoiceRow));
  if (!rows.children.length) replace(rows, h("tr", {}, h("td", { colspan: "7" }, emptyState("No invoices."))));
  cursor = page.next_cursor;
  byId("more-invoices").hidden = !cursor;
}

async function showPayments(invoice) {
  const { payments, refunds } = await api(`/api/v1/billing/invoices/${invoice.id}/payments`);
  byId("payments-card").hidden = false;
  replace(byId("payments-title"), `Payments of ${invoice.number}`);
  const refundsOf = (payment) => refunds.filter((r) => r.payment_id === payment.id);
  replace(
    byId("payment-rows"),
    payments.length ? payments.map((payment) =>
      h(
        "li",
        { dataset: { paymentId: payment.id } },
        h("div", {}, `${payment.method} · ${payment.status} · `, formatMoney(payment.amount_minor, payment.currency),
          payment.refunded_minor ? ` · refunded ${formatMoney(payment.refunded_minor, payment.currency)}` : "",
          h("div", { class: "meta" }, payment.reference ?? "", refundsOf(payment).map((r) => ` refund ${r.status}: ${r.reason ?? ""}`))),
        payment.status === "succeeded" && payment.refunded_minor < payment.amount_minor
          ? h("button", { type: "button", class: "button-quiet", onclick: () => openRefund({ invoice, payment }) }, "Refund…")
          : null,
      ),
    ) : h("li", {}, emptyState("No payments.")),
  );
}

export function bindInvoices() {
  openPayment = bindDialog("payment", {
    prepare(form, { invoice }) {
      replace(byId("payment-what"), `Invoice ${invoice.number}: balance `, formatMoney(invoice.balance_minor, invoice.currency));
      form.elements.amount.value = moneyInput(invoice.balance_minor, invoice.currency);
    },
    async submit(form, { invoice, key }) {
      const body = { method: form.elements.method.value, amount_minor: amountOf(form, invoice.currency), currency: invoice.currency };
      if (form.elements.reference.value.trim()) body.reference = form.elements.reference.value.trim();
      await api(`/api/v1/billing/invoices/${invoice.id}/payments`, { method: "POST", headers: { "Idempotency-Key": key }, json: body });
      showNotice(byId("messages"), `Payment recorded on ${invoice.number}.`);
      await showInvoices(true);
    },
  });
  openRefund = bindDialog("refund", {
    prepare(form, { payment }) {
      const left = payment.amount_minor - payment.refunded_minor;
      replace(byId("refund-what"), `Up to `, formatMoney(left, payment.currency), ` can be refunded.`);
      form.elements.amount.value = moneyInput(left, payment.currency);
    },
    async submit(form, { invoice, payment, key }) {
      const body = { amount_minor: amountOf(form, payment.currency), currency: payment.currency };
      if (form.elements.reason.value.trim()) body.reason = form.elements.reason.value.trim();
      await api(`/api/v1/billing/payments/${payment.id}/refunds`, { method: "POST", headers: { "Idempotency-Key": key }, json: body });
      showNotice(byId("messages"), `Refund recorded on ${invoice.number}.`);
      await showInvoices(true);
      await showPayments((await api(`/api/v1/billing/invoices/${invoice.id}`)));
    },
  });
  byId("invoice-search").addEventListener("click", guarded(() => showInvoices(true)));
  byId("more-invoices").addEventListener("click", guarded(() => showInvoices(false)));
}
