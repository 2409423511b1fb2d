"""Payments and refunds: card payments through a gateway, cash and bank transfers recorded by staff.

Offers card payments and checkouts, offline payments, refunds, cancellation, the gateway's webhooks,
the expiry job of the worker, and `GatewayServer`, the test gateway the embedded mode runs.
"""

from billing.payments.cancel import cancel_card_payment
from billing.payments.card import pay_by_card
from billing.payments.checkout import start_checkout
from billing.payments.expiry import run_payment_expiry
from billing.payments.gateway import gateway_from_settings
from billing.payments.idempotency import require_key
from billing.payments.models import PaymentMethod
from billing.payments.offline import record_offline_payment
from billing.payments.queries import invoice_payments
from billing.payments.refunds import refund_payment
from billing.payments.schemas import (
    CheckoutCreate,
    PaymentCreate,
    PaymentOptions,
    PaymentRead,
    RefundCreate,
    RefundRead,
)
from billing.payments.test_gateway import GatewayServer
from billing.payments.webhooks import handle_event, verify_signature

__all__ = [
    "CheckoutCreate",
    "GatewayServer",
    "PaymentCreate",
    "PaymentMethod",
    "PaymentOptions",
    "PaymentRead",
    "RefundCreate",
    "RefundRead",
    "cancel_card_payment",
    "gateway_from_settings",
    "handle_event",
    "invoice_payments",
    "pay_by_card",
    "record_offline_payment",
    "refund_payment",
    "require_key",
    "run_payment_expiry",
    "start_checkout",
    "verify_signature",
]
