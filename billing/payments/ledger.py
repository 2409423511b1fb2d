"""The invoice side of money moving: checks and balance updates, on an invoice locked by the caller.

`paid_minor` is money received and kept; `pending_minor` is reserved by card payments in flight.
Their sum never exceeds the total (also a database check), which is what refuses overpayment.
"""

from __future__ import annotations

import logging

from billing.exceptions import CurrencyMismatch, InvoiceNotPayable, Overpayment, RefundExceedsPaid
from billing.invoices import Invoice, InvoiceStatus, settle_status
from billing.money import format_money
from billing.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from core.db import utc_now

log = logging.getLogger(__name__)
UNRECONCILED = "Succeeded at the gateway after it was released, with no room left on the invoice: refund it."


def check_payable(invoice: Invoice, *, amount_minor: int, currency: str) -> None:
    """Refuses a payment in another currency, on an unpayable invoice, or above the open balance."""
    if currency != invoice.currency:
        raise CurrencyMismatch(
            f"Invoice {invoice.number} is in {invoice.currency}; the payment is in {currency}."
        )
    if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        raise InvoiceNotPayable(
            f"Invoice {invoice.number or invoice.id} is {invoice.status.value}: nothing to pay."
        )
    open_minor = invoice.total_minor - invoice.paid_minor - invoice.pending_minor
    if amount_minor > open_minor:
        raise Overpayment(
            f"The payment ({format_money(amount_minor, invoice.currency)}) exceeds what is open on invoice "
            f"{invoice.number} ({format_money(open_minor, invoice.currency)}"
            f"{f', with {format_money(invoice.pending_minor, invoice.currency)} awaiting the card gateway' if invoice.pending_minor else ''}).",
            extra={"open_minor": open_minor},
        )


def reserve(invoice: Invoice, payment: Payment) -> None:
    invoice.pending_minor += payment.amount_minor


def settle(invoice: Invoice, payment: Payment) -> bool:
    """Marks the payment succeeded and counts it as paid; False if nothing changed."""
    if payment.status is PaymentStatus.PENDING:
        invoice.pending_minor -= payment.amount_minor
        _receive(invoice, payment)
        return True
    if payment.status is PaymentStatus.FAILED:
        # The card was declined, then the patient confirmed the same intent with another card: the
        # money arrived after all. Count it if the invoice still has room; otherwise flag it for a refund.
        open_minor = invoice.total_minor - invoice.paid_minor - invoice.pending_minor
        if invoice.status is not InvoiceStatus.VOID and payment.amount_minor <= open_minor:
            payment.failure_reason = None
            _receive(invoice, payment)
        else:
            log.error("payment %s succeeded at the gateway after being released; refund it", payment.id)
            payment.failure_reason = UNRECONCILED
        return True
    return False


def receive_now(invoice: Invoice, payment: Payment) -> None:
    """Cash and transfers: received the moment they are recorded."""
    _receive(invoice, payment)


def release(invoice: Invoice, payment: Payment, *, reason: str) -> bool:
    """A card payment that failed: its reservation is given back; False if it was settled before."""
    if payment.status is not PaymentStatus.PENDING:
        return False
    invoice.pending_minor -= payment.amount_minor
    payment.status = PaymentStatus.FAILED
    payment.failure_reason = reason[:500]
    return True


def check_refundable(payment: Payment, *, amount_minor: int, currency: str) -> None:
    """Refuses refunding an unsettled payment, in another currency, or more than is left of it."""
    if currency != payment.currency:
        raise CurrencyMismatch(f"The payment is in {payment.currency}; the refund is in {currency}.")
    if payment.status is not PaymentStatus.SUCCEEDED:
        raise RefundExceedsPaid(f"This payment is {payment.status.value}: nothing was received to refund.")
    left = payment.amount_minor - payment.refunded_minor
    if amount_minor > left:
        raise RefundExceedsPaid(
            f"The refund ({format_money(amount_minor, payment.currency)}) exceeds what is left of the payment "
            f"({format_money(left, payment.currency)} of {format_money(payment.amount_minor, payment.currency)}).",
            extra={"refundable_minor": left},
        )


def refund_settled(invoice: Invoice, refund: Refund) -> None:
    """Money went back: the invoice is owed it again."""
    refund.status = RefundStatus.SUCCEEDED
    refund.settled_at = utc_now()
    invoice.paid_minor -= refund.amount_minor
    settle_status(invoice)


def refund_failed(payment: Payment, refund: Refund, *, reason: str) -> None:
    """The gateway refused the refund: the reserved amount becomes refundable again."""
    refund.status = RefundStatus.FAILED
    refund.failure_reason = reason[:500]
    payment.refunded_minor -= refund.amount_minor


def _receive(invoice: Invoice, payment: Payment) -> None:
    payment.status = PaymentStatus.SUCCEEDED
    payment.settled_at = utc_now()
    invoice.paid_minor += payment.amount_minor
    settle_status(invoice)
