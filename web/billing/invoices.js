// Invoices: listed newest first with the patient's name and the status in words; issue or discard a
// draft, void an unpaid one (each after a confirmation), download the PDF, record cash or bank
// payments, and see and refund payments.

import { clearMessages, emptyState, showError, showNotice } from "../shared/alerts.js";
import { api, download } from "../shared/api.js";
import { confirmAction } from "../shared/confirm.js";
import { h, replace } from "../shared/dom.js";
import { card, choice } from "../shared/forms.js";
import { formatDate, formatDateTime } from "../shared/time.js";
import { word } from "../shared/words.js";
import { formDialog, problem } from "./dialogs.js";
import { amountOf, money, moneyInput, patientCell, patientPicker, responsive, statusChip } from "./office.js";

const STATUSES = [["", "Any status"], ...["draft", "issued", "partially_paid", "paid", "void"].map((s) => [s, word("invoice", s)])];

function amounts(invoice) {
  const m = (minor) => money(minor, invoice.currency);
  return [h("td", { class: "amount" }, m(invoice.total_minor)), h("td", { class: "amount" }, m(invoice.paid_minor)), h("td", { class: "amount balance" }, m(invoice.balance_minor))];
}

async function confirmed(view, options, work, notice) {
  const answer = await confirmAction(options);
  if (!answer) return;
  clearMessages(view.office.messages);
  try {
    await work(answer);
    await view.reload();
    showNotice(view.office.messages, notice);
  } catch (error) {
    showError(view.office.messages, error);
  }
}

function actionsFor(invoice, view) {
  const base = `/api/v1/billing/invoices/${invoice.id}`;
  const label = invoice.number ?? `the draft for ${invoice.patient_name}`;
  const button = (text, onclick, quiet = true) => h("button", { type: "button", class: quiet ? "button-quiet" : null, onclick }, text);
  const buttons = [];
  if (invoice.status === "draft") {
    buttons.push(button("Issue…", () => confirmed(view,
      { title: `Issue ${label}?`, message: `It takes the next invoice number and can no longer be edited. Total ${money(invoice.total_minor, invoice.currency)}.`, confirmLabel: "Issue invoice" },
      () => api(`${base}/issue`, { method: "POST" }), `Invoice issued to ${invoice.patient_name}.`), false));
    buttons.push(button("Discard…", () => confirmed(view,
      { title: `Discard ${label}?`, message: "Its charges go back to the list of charges to invoice.", confirmLabel: "Discard draft", danger: true },
      () => api(base, { method: "DELETE" }), "Draft discarded.")));
  }
  if (["issued", "partially_paid"].includes(invoice.status)) buttons.push(button("Record payment…", () => recordPayment(invoice, view), false));
  if (invoice.status === "issued" && invoice.paid_minor === 0 && invoice.pending_minor === 0) {
    buttons.push(button("Void…", () => confirmed(view,
      { title: `Void ${invoice.number}?`, message: "The invoice is cancelled for good (its number stays used) and its charges can be invoiced again.", confirmLabel: "Void invoice", danger: true, reasonLabel: "Reason for voiding" },
      (answer) => api(`${base}/void`, { method: "POST", json: { reason: answer.reason } }), `${invoice.number} voided.`)));
  }
  if (invoice.status !== "draft") buttons.push(button("Payments", () => showPayments(invoice, view).catch((e) => showError(view.office.messages, e))));
  buttons.push(button("PDF", () => download(`${base}/pdf`, `${invoice.number ?? "draft"}.pdf`).catch((e) => showError(view.office.messages, e))));
  return h("div", { class: "actions" }, buttons);
}

function invoiceRow(invoice, view) {
  const codes = invoice.lines.map((l) => l.code).join(", ");
  return h(
    "tr",
    { dataset: { invoiceId: invoice.id } },
    h("th", { scope: "row" }, h("span", { class: "nowrap" }, invoice.number ?? "Draft"),
      h("div", { class: "meta", title: codes }, `${invoice.lines.length} line${invoice.lines.length === 1 ? "" : "s"}${invoice.lines.length <= 3 ? `: ${codes}` : ""}`)),
    h("td", {}, patientCell(invoice.patient_name, invoice.patient_mrn)),
    h("td", {}, statusChip("invoice", invoice.status), invoice.void_reason ? h("div", { class: "meta" }, invoice.void_reason) : null),
    ...amounts(invoice),
    h("td", {}, invoice.due_date ? formatDate(invoice.due_date) : "—"),
    h("td", {}, actionsFor(invoice, view)),
  );
}

async function recordPayment(invoice, view) {
  const payment = await formDialog({
    id: "payment-dialog",
    title: `Record a payment on ${invoice.number}`,
    intro: `${invoice.patient_name} owes ${money(invoice.balance_minor, invoice.currency)}.`,
    fields: [
      choice("Method", { name: "method" }, [["cash", "Cash"], ["bank_transfer", "Bank transfer"]]),
      h("label", {}, `Amount (${invoice.currency})`, h("input", { name: "amount", inputmode: "decimal", required: true, autocomplete: "off", value: moneyInput(invoice.balance_minor, invoice.currency) })),
      h("label", {}, "Reference (receipt or bank reference)", h("input", { name: "reference", maxlength: 140, autocomplete: "off" })),
    ],
    submitLabel: "Record payment",
    submit: (data, form, key) => {
      const body = { method: data.method, amount_minor: amountOf(data.amount, invoice.currency), currency: invoice.currency };
      if (data.reference) body.reference = data.reference;
      return api(`/api/v1/billing/invoices/${invoice.id}/payments`, { method: "POST", headers: { "Idempotency-Key": key }, json: body });
    },
  });
  if (!payment) return;
  await view.reload();
  showNotice(view.office.messages, `${money(payment.amount_minor, payment.currency)} received from ${invoice.patient_name} (${word("method", payment.method).toLowerCase()}) on ${invoice.number}.`);
}

async function refund(invoice, payment, view) {
  const left = payment.amount_minor - payment.refunded_minor;
  const done = await formDialog({
    id: "refund-dialog",
    title: `Refund ${invoice.patient_name}`,
    intro: `Up to ${money(left, payment.currency)} of this ${word("method", payment.method).toLowerCase()} payment can be refunded. The invoice's balance reopens by the amount refunded.`,
    fields: [
      h("label", {}, `Amount (${payment.currency})`, h("input", { name: "amount", inputmode: "decimal", required: true, autocomplete: "off", value: moneyInput(left, payment.currency) })),
      h("label", {}, "Reason", h("input", { name: "reason", maxlength: 500, required: true, autocomplete: "off" })),
    ],
    submitLabel: "Refund",
    danger: true,
    submit: (data, form, key) => {
      const amount = amountOf(data.amount, payment.currency);
      if (!data.reason) throw problem("Give a reason", "Reason: say why the money goes back; it is kept on the record.");
      return api(`/api/v1/billing/payments/${payment.id}/refunds`, {
        method: "POST", headers: { "Idempotency-Key": key },
        json: { amount_minor: amount, currency: payment.currency, reason: data.reason },
      });
    },
  });
  if (!done) return;
  await view.reload();
  await showPayments(await api(`/api/v1/billing/invoices/${invoice.id}`), view);
  showNotice(view.office.messages, `Refunded ${money(done.amount_minor, done.currency)} to ${invoice.patient_name}.`);
}

async function showPayments(invoice, view) {
  const { payments, refunds } = await api(`/api/v1/billing/invoices/${invoice.id}/payments`);
  const refundsOf = (payment) => refunds.filter((r) => r.payment_id === payment.id);
  replace(view.payments, card("payments-title", `Payments of ${invoice.number} (${invoice.patient_name})`,
    payments.length
      ? h("ul", { class: "list", id: "payment-rows" }, payments.map((p) => h("li", { dataset: { paymentId: p.id } },
          h("div", {},
            h("strong", {}, `${money(p.amount_minor, p.currency)} ${word("method", p.method).toLowerCase()}`), " ", statusChip("payment", p.status),
            p.refunded_minor ? h("span", { class: "meta" }, ` · refunded ${money(p.refunded_minor, p.currency)}`) : null,
            h("div", { class: "meta" }, [formatDateTime(p.created_at), p.reference].filter(Boolean).join(" · ")),
            refundsOf(p).map((r) => h("div", { class: "meta" }, `Refund of ${money(r.amount_minor, r.currency)}, ${word("refund", r.status).toLowerCase()}${r.reason ? `: ${r.reason}` : ""}`))),
          p.status === "succeeded" && p.refunded_minor < p.amount_minor
            ? h("button", { type: "button", class: "button-quiet", onclick: () => refund(invoice, p, view).catch((e) => showError(view.office.messages, e)) }, "Refund…")
            : null)))
      : emptyState("No payments yet.")));
  view.payments.scrollIntoView({ block: "nearest" });
}

export async function render(panel, office, options) {
  const view = { office, patient: options.patient ?? null, cursor: null, rows: [], payments: h("div", { id: "payments-card" }) };
  const list = h("div", {});
  const more = h("button", { type: "button", class: "button-quiet", hidden: true }, "Show older invoices");
  const status = h("select", { id: "invoice-status", name: "status" }, STATUSES.map(([value, text]) => h("option", { value }, text)));
  status.value = options.status ?? "";
  const whose = h("p", { class: "meta", id: "invoice-patient" });
  const load = async (reset) => {
    if (reset) { view.rows = []; view.cursor = null; }
    const params = new URLSearchParams({ limit: "25" });
    if (status.value) params.set("status", status.value);
    if (view.patient) params.set("patient_id", view.patient.id);
    if (view.cursor) params.set("cursor", view.cursor);
    const page = await api(`/api/v1/billing/invoices?${params}`);
    view.rows = view.rows.concat(page.items);
    view.cursor = page.next_cursor;
    more.hidden = !view.cursor;
    replace(whose, view.patient ? [`Showing ${view.patient.name}'s invoices. `, h("button", { type: "button", class: "button-quiet", onclick: () => { view.patient = null; office.options.invoices = {}; load(true); } }, "Show every patient")] : "Showing every patient.");
    replace(list, view.rows.length
      ? responsive(h("div", { class: "table-wrap" }, h("table", { id: "invoice-table" },
          h("caption", {}, "Invoices, newest first"),
          h("thead", {}, h("tr", {}, ["Invoice", "Patient", "Status", "Total", "Paid", "Balance", "Due", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", { id: "invoice-rows" }, view.rows.map((i) => invoiceRow(i, view))))))
      : emptyState(status.value ? `No ${word("invoice", status.value).toLowerCase()} invoices.` : "No invoices."));
  };
  view.reload = () => load(true);
  const guarded = (work) => () => work().catch((error) => showError(office.messages, error));
  status.addEventListener("change", guarded(() => load(true)));
  more.addEventListener("click", guarded(() => load(false)));
  const picker = patientPicker({ label: "Patient (name or MRN)", messages: office.messages, onChoose: (account) => {
    view.patient = { id: account.patient_id, name: account.name };
    load(true).catch((error) => showError(office.messages, error));
  } });
  replace(panel, card("invoices-title", "Invoices", h("div", { class: "row filters" }, h("label", {}, "Status", status), picker), whose, list, more), view.payments);
  await load(true);
}
