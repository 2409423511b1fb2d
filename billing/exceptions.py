"""Billing's domain errors: each a problem+json with a stable code, raised before anything changes."""

from __future__ import annotations

from core.errors import Conflict, DomainError, InvalidInput, Unavailable


class CurrencyMismatch(InvalidInput):
    code, title = "currency-mismatch", "Currency mismatch"


class NoPrice(InvalidInput):
    code, title = "no-price", "No price on the service date"


class PriceOverlap(Conflict):
    code, title = "price-overlap", "Overlapping prices"


class AlreadyInvoiced(Conflict):
    code, title = "already-invoiced", "Charge already invoiced"


class ChargeOnClaim(Conflict):
    code, title = "charge-on-claim", "Charge on an insurance claim"


class InvoiceNotEditable(Conflict):
    code, title = "invoice-not-editable", "Invoice not editable"


class InvoiceNotPayable(Conflict):
    code, title = "invoice-not-payable", "Invoice not payable"


class Overpayment(Conflict):
    code, title = "overpayment", "Payment exceeds the balance"


class RefundExceedsPaid(Conflict):
    code, title = "refund-exceeds-paid", "Refund exceeds what was paid"


class IdempotencyKeyReused(InvalidInput):
    code, title = "idempotency-key-reused", "Idempotency key reused with a different request"


class IdempotencyKeyMissing(InvalidInput):
    code, title = "idempotency-key-missing", "Idempotency-Key header required"


class GatewayUnavailable(Unavailable):
    code, title = "payment-gateway-unavailable", "Payment gateway unavailable"


class BadSignature(DomainError):
    status, code, title = 400, "bad-webhook-signature", "Bad webhook signature"
