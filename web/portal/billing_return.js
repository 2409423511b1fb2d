// Coming back from the payment provider's page: the address names the invoice, the payment and
// whether the person paid or cancelled there. What happened is read from Ownat (the provider has
// told it by then, or does shortly) and said in words; a payment left unpaid is cancelled so that
// it stops holding the invoice.

import { showError, showNotice } from "../shared/alerts.js";
import { api, ApiError } from "../shared/api.js";
import { formatMoney } from "./billing_money.js";

const WAIT_MS = 2000;
const WAITS = 15; // the provider's confirmation usually comes within a few seconds

async function paymentOf(invoiceId, paymentId) {
  const { payments } = await api(`/api/v1/billing/invoices/${invoiceId}/payments`);
  return payments.find((payment) => payment.id === paymentId) ?? null;
}

async function cancelUnpaid(payment) {
  try {
    return await api(`/api/v1/billing/payments/${payment.id}/cancel`, { method: "POST" });
  } catch (error) {
    // Settled meanwhile (paid after all, or refused): what it became is read again below.
    if (error instanceof ApiError && error.status === 409) return null;
    throw error;
  }
}

/** Says in `region` what became of the payment the address names, if it names one; true if it did. */
export async function explainReturn(region) {
  const params = new URLSearchParams(window.location.search);
  const invoiceId = params.get("invoice");
  const paymentId = params.get("payment");
  const outcome = params.get("checkout");
  if (!invoiceId || !paymentId) return false;
  history.replaceState(null, "", window.location.pathname);
  let payment = await paymentOf(invoiceId, paymentId);
  if (payment?.status === "pending" && outcome === "cancelled") payment = (await cancelUnpaid(payment)) ?? (await paymentOf(invoiceId, paymentId));
  for (let i = 0; payment?.status === "pending" && i < WAITS; i += 1) {
    showNotice(region, "Your payment is being confirmed by the payment provider…");
    await new Promise((resolve) => setTimeout(resolve, WAIT_MS));
    payment = await paymentOf(invoiceId, paymentId);
  }
  if (!payment) return false;
  const invoice = await api(`/api/v1/billing/invoices/${invoiceId}`);
  const amount = formatMoney(payment.amount_minor, payment.currency);
  if (payment.status === "succeeded") {
    showNotice(region, `Thank you: ${amount} paid on invoice ${invoice.number}.`);
  } else if (payment.status === "pending") {
    showNotice(region, `Your payment of ${amount} is being processed by the payment provider; this page shows it once it is confirmed.`);
  } else if (outcome === "cancelled" && !payment.gateway_intent_id) {
    // No card was tried on the page (a tried one leaves its intent, and its refusal, on the payment).
    showNotice(region, `You cancelled the payment of ${amount} on invoice ${invoice.number}: nothing was charged.`);
  } else {
    const error = new Error(`${payment.failure_reason ?? "The payment was refused."} Nothing was charged; you can try again with another card.`);
    error.title = "Your payment did not go through";
    showError(region, error);
  }
  return true;
}
