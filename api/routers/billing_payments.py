"""Payments and refunds (with an `Idempotency-Key`), and the payment gateway's webhook.

Patients pay their own issued invoices by card on the gateway's page (`/checkout`); billing staff and administrators also record cash
and bank transfers and make refunds. Payment endpoints open their own units of work instead of
the request's session: a card payment commits its pending record before the gateway is called.
The webhook is public (the gateway cannot sign in) and trusts only a valid signature.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel

from api.deps import CurrentPrincipal, ResourcesDep, SessionDep, SettingsDep
from billing import payments
from billing.exceptions import GatewayUnavailable
from billing.payments import (
    CheckoutCreate,
    PaymentCreate,
    PaymentMethod,
    PaymentOptions,
    PaymentRead,
    RefundCreate,
    RefundRead,
    gateway_from_settings,
)
from core.sessions import transaction

router = APIRouter(prefix="/billing", tags=["billing"])
public_router = APIRouter(prefix="/billing", tags=["billing"])
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", description="Required: a retry with the same key pays once")
]
REPLAY_HEADER = "Idempotent-Replayed"


class InvoicePayments(BaseModel):
    payments: list[PaymentRead]
    refunds: list[RefundRead]


@router.post(
    "/invoices/{invoice_id}/payments", status_code=201, response_model=PaymentRead, summary="Pay an invoice"
)
async def create_payment(
    invoice_id: uuid.UUID,
    body: PaymentCreate,
    actor: CurrentPrincipal,
    resources: ResourcesDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> PaymentRead:
    key = payments.require_key(idempotency_key)
    if body.method is PaymentMethod.CARD:
        gateway = gateway_from_settings(resources.settings)
        if gateway is None:
            raise GatewayUnavailable("Card payments are not configured on this server.")
        payment, replayed = await payments.pay_by_card(
            sessions=resources.sessions,
            gateway=gateway,
            actor=actor,
            invoice_id=invoice_id,
            new=body,
            key=key,
        )
    else:
        async with transaction(resources.sessions) as session:
            payment, replayed = await payments.record_offline_payment(
                session=session, actor=actor, invoice_id=invoice_id, new=body, key=key
            )
    response.headers[REPLAY_HEADER] = str(replayed).lower()
    return PaymentRead.model_validate(payment)


@router.post(
    "/invoices/{invoice_id}/checkout",
    status_code=201,
    response_model=PaymentRead,
    summary="Pay by card on the gateway's page: send the browser to the answer's checkout_url",
)
async def create_checkout(
    invoice_id: uuid.UUID,
    body: CheckoutCreate,
    actor: CurrentPrincipal,
    resources: ResourcesDep,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> PaymentRead:
    key = payments.require_key(idempotency_key)
    settings = resources.settings
    gateway = gateway_from_settings(settings)
    if gateway is None:
        raise GatewayUnavailable("Card payments are not configured on this server.")
    payment, replayed = await payments.start_checkout(
        sessions=resources.sessions,
        gateway=gateway,
        actor=actor,
        invoice_id=invoice_id,
        new=body,
        key=key,
        return_url=settings.payment_return_url or str(request.base_url) + "portal/billing",
        open_for_s=settings.payment_pending_expiry_s,
    )
    response.headers[REPLAY_HEADER] = str(replayed).lower()
    return PaymentRead.model_validate(payment)


@router.get("/payment-options", response_model=PaymentOptions, summary="How this server takes payments")
async def payment_options(actor: CurrentPrincipal, settings: SettingsDep) -> PaymentOptions:
    key = settings.payment_gateway_secret_key
    return PaymentOptions(
        card=gateway_from_settings(settings) is not None,
        # The gateways' own convention: test keys charge no real card.
        test_mode=key is not None and key.get_secret_value().startswith("sk_test_"),
    )


@router.get(
    "/invoices/{invoice_id}/payments", response_model=InvoicePayments, summary="An invoice's payments"
)
async def list_payments(
    invoice_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep
) -> InvoicePayments:
    payment_rows, refund_rows = await payments.invoice_payments(
        session=session, actor=actor, invoice_id=invoice_id
    )
    return InvoicePayments(payments=payment_rows, refunds=refund_rows)


@router.post(
    "/payments/{payment_id}/refunds", status_code=201, response_model=RefundRead, summary="Refund a payment"
)
async def create_refund(
    payment_id: uuid.UUID,
    body: RefundCreate,
    actor: CurrentPrincipal,
    resources: ResourcesDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> RefundRead:
    key = payments.require_key(idempotency_key)
    refund, replayed = await payments.refund_payment(
        sessions=resources.sessions,
        gateway=gateway_from_settings(resources.settings),
        actor=actor,
        payment_id=payment_id,
        new=body,
        key=key,
    )
    response.headers[REPLAY_HEADER] = str(replayed).lower()
    return RefundRead.model_validate(refund)


@router.post(
    "/payments/{payment_id}/cancel", response_model=PaymentRead, summary="Cancel a pending card payment"
)
async def cancel_payment(
    payment_id: uuid.UUID, actor: CurrentPrincipal, resources: ResourcesDep
) -> PaymentRead:
    gateway = gateway_from_settings(resources.settings)
    if gateway is None:
        raise GatewayUnavailable("Card payments are not configured on this server.")
    payment = await payments.cancel_card_payment(
        sessions=resources.sessions, gateway=gateway, actor=actor, payment_id=payment_id
    )
    return PaymentRead.model_validate(payment)


@public_router.post("/gateway/webhook", summary="Payment gateway events (signed)")
async def gateway_webhook(request: Request, session: SessionDep, settings: SettingsDep) -> dict[str, str]:
    if settings.payment_webhook_secret is None:
        raise GatewayUnavailable("The payment webhook is not configured on this server.")
    payload = await request.body()
    payments.verify_signature(
        payload,
        request.headers.get("stripe-signature"),
        secret=settings.payment_webhook_secret.get_secret_value(),
        tolerance_s=settings.payment_webhook_tolerance_s,
    )
    return {"result": await payments.handle_event(session=session, payload=payload)}
