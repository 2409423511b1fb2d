// The patient's bills: issued invoices with their balance, PDF download, and payment by card on the
// payment provider's page (the card is typed there, never here), offered only when card payments
// are set up, with what happened said on coming back (billing_return.js).

import { showError, showNotice, emptyState } from "../shared/alerts.js";
import { api, download } from "../shared/api.js";
import { requireUser } from "../shared/auth.js";
import { busy, byId, h, replace } from "../shared/dom.js";
import { renderLayout } from "../shared/layout.js";
import { formatMoney, moneyInput, parseMoney } from "./billing_money.js";
import { explainReturn } from "./billing_return.js";

const PAGE_SIZE = 20;
const STATUS = { issued: "Due", partially_paid: "Partly paid", paid: "Paid", void: "Void" };
let cursor = null;
let paying = null; // { invoice, key }: one Idempotency-Key per payment attempt, reused on retry
let options = { card: false, test_mode: false };

function invoiceItem(invoice) {
  const open = options.card && ["issued", "partially_paid"].includes(invoice.status) && invoice.balance_minor > invoice.pending_minor;
  return h(
    "li",
    { dataset: { invoiceId: invoice.id } },
    h(
      "div",
      {},
      h("strong", {}, invoice.number ?? "Draft"),
      " · ",
      h("span", { class: "status" }, STATUS[invoice.status] ?? invoice.status),
      h(
        "div",
        { class: "meta" },
        `Issued ${invoice.issued_at?.slice(0, 10) ?? "—"} · due ${invoice.due_date ?? "—"} · total `,
        formatMoney(invoice.total_minor, invoice.currency),
        " · ",
        h("span", { class: "balance" }, `to pay ${formatMoney(invoice.balance_minor, invoice.currency)}`),
        invoice.pending_minor ? ` (${formatMoney(invoice.pending_minor, invoice.currency)} being processed)` : "",
      ),
      invoice.lines.length
        ? h("ul", { class: "meta" }, invoice.lines.map((line) => h("li", {}, `${line.description}: `, formatMoney(line.total_minor, invoice.currency))))
        : null,
    ),
    h(
      "div",
      { class: "row" },
      h("button", { type: "button", class: "button-quiet", onclick: () => downloadPdf(invoice) }, "Download PDF"),
      open ? h("button", { type: "button", onclick: () => openPayment(invoice) }, "Pay…") : null,
    ),
  );
}

async function downloadPdf(invoice) {
  try {
    await download(`/api/v1/billing/invoices/${invoice.id}/pdf`, `${invoice.number}.pdf`);
  } catch (error) {
    showError(byId("messages"), error);
  }
}

function openPayment(invoice) {
  paying = { invoice, key: crypto.randomUUID() };
  const form = byId("pay-form");
  form.reset();
  replace(byId("pay-messages"));
  replace(byId("pay-what"), `Invoice ${invoice.number}: `, formatMoney(invoice.balance_minor - invoice.pending_minor, invoice.currency), " to pay.");
  form.elements.amount.value = moneyInput(invoice.balance_minor - invoice.pending_minor, invoice.currency);
  byId("pay-test-mode").hidden = !options.test_mode;
  byId("pay-dialog").showModal();
}

async function submitPayment(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const { invoice, key } = paying;
  const amount = parseMoney(form.elements.amount.value, invoice.currency);
  if (amount === null || amount <= 0) {
    showError(byId("pay-messages"), new Error(`Enter an amount in ${invoice.currency}, such as 12.50.`));
    return;
  }
  await busy(form, async () => {
    try {
      const payment = await api(`/api/v1/billing/invoices/${invoice.id}/checkout`, {
        method: "POST",
        headers: { "Idempotency-Key": key },
        json: { amount_minor: amount, currency: invoice.currency },
      });
      if (payment.status === "pending" && payment.checkout_url) {
        // To the provider's page; it sends the browser back here with the outcome.
        window.location.assign(payment.checkout_url);
        return;
      }
      // Refused by the provider before its page opened: that key is spent, the next try is new.
      paying.key = crypto.randomUUID();
      showError(byId("pay-messages"), new Error(payment.failure_reason ?? "The payment could not be started."));
    } catch (error) {
      showError(byId("pay-messages"), error);
    }
  });
}

async function showInvoices(reset) {
  if (reset) cursor = null;
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (cursor) query.set("cursor", cursor);
  const page = await api(`/api/v1/billing/invoices?${query}`);
  const list = byId("invoices");
  if (reset) replace(list);
  list.append(...page.items.map(invoiceItem));
  if (!list.children.length) replace(list, h("li", {}, emptyState("You have no invoices.")));
  cursor = page.next_cursor;
  byId("more-invoices").hidden = !cursor;
}

async function main() {
  const user = await requireUser(["patient"]);
  if (!user) return;
  renderLayout(user);
  byId("pay-form").addEventListener("submit", submitPayment);
  byId("pay-close").addEventListener("click", () => byId("pay-dialog").close());
  byId("more-invoices").addEventListener("click", () => showInvoices(false).catch((e) => showError(byId("messages"), e)));
  options = await api("/api/v1/billing/payment-options");
  byId("no-card").hidden = options.card;
  await showInvoices(true);
  if (await explainReturn(byId("messages"))) await showInvoices(true);
  document.body.dataset.ready = "true";
}

main().catch((error) => showError(byId("messages"), error));
