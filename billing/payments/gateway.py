"""The payment-gateway interface and its provider for a Stripe-style HTTP API.

Requests are form-encoded POSTs with a bearer secret key and an `Idempotency-Key`, so a retried
call after a lost answer returns the first intent, checkout or refund instead of charging again.
A checkout (Stripe's Checkout Session) is the gateway's hosted payment page: the patient's browser
goes there, the card is typed there, and the browser comes back to Ownat; the card never passes
through Ownat.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx
from pydantic import BaseModel

from core.settings import Settings


class GatewayIntent(BaseModel):
    id: str
    status: str  # succeeded, processing, requires_payment_method, requires_action, canceled
    amount: int
    currency: str
    client_secret: str | None = None
    metadata: dict[str, str] = {}
    failure: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def failed(self) -> bool:
        return self.status == "canceled" or (
            self.status == "requires_payment_method" and self.failure is not None
        )


class GatewayRefund(BaseModel):
    id: str
    status: str  # succeeded, pending, failed, canceled
    amount: int
    failure: str | None = None


class GatewayCheckout(BaseModel):
    id: str
    url: str | None  # the hosted payment page; null once the checkout is over
    status: str  # open, complete, expired
    payment_status: str  # unpaid, paid
    payment_intent: str | None
    amount: int
    currency: str
    metadata: dict[str, str] = {}

    def paid_intent(self) -> GatewayIntent | None:
        """The intent that paid this checkout, as its own success would report it; None if unpaid."""
        if self.status != "complete" or self.payment_status != "paid" or self.payment_intent is None:
            return None
        return GatewayIntent(
            id=self.payment_intent,
            status="succeeded",
            amount=self.amount,
            currency=self.currency,
            metadata=self.metadata,
        )


class GatewayUnreachable(Exception):
    """No usable answer (network, timeout, 5xx): the outcome is unknown, so the caller retries."""


class GatewayRejected(Exception):
    """The gateway refused the request itself (4xx that is not a card decline)."""


class PaymentGateway(Protocol):
    async def create_payment_intent(
        self,
        *,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str],
        payment_method: str | None = None,
    ) -> GatewayIntent: ...

    async def create_refund(
        self, *, intent_id: str, amount_minor: int, idempotency_key: str, metadata: dict[str, str]
    ) -> GatewayRefund: ...

    async def cancel_payment_intent(self, *, intent_id: str, idempotency_key: str) -> GatewayIntent: ...

    async def retrieve_payment_intent(self, *, intent_id: str) -> GatewayIntent: ...

    async def create_checkout(
        self,
        *,
        amount_minor: int,
        currency: str,
        description: str,
        success_url: str,
        cancel_url: str,
        expires_at: int,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> GatewayCheckout: ...

    async def retrieve_checkout(self, *, checkout_id: str) -> GatewayCheckout: ...

    async def expire_checkout(self, *, checkout_id: str, idempotency_key: str) -> GatewayCheckout: ...


class StripeStyleGateway:
    """Talks to `base_url` (https://api.stripe.com or a compatible service) with the secret key."""

    def __init__(self, *, base_url: str, secret_key: str, timeout_s: float) -> None:
        self._base_url = base_url.rstrip("/")
        self._secret_key = secret_key
        self._timeout_s = timeout_s

    async def create_payment_intent(
        self,
        *,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str],
        payment_method: str | None = None,
    ) -> GatewayIntent:
        form = {"amount": str(amount_minor), "currency": currency.lower(), **_metadata(metadata)}
        if payment_method:
            form |= {"payment_method": payment_method, "confirm": "true"}
        else:
            form["automatic_payment_methods[enabled]"] = "true"
        body = await self._post("/v1/payment_intents", form, idempotency_key)
        return _intent(body)

    async def create_refund(
        self, *, intent_id: str, amount_minor: int, idempotency_key: str, metadata: dict[str, str]
    ) -> GatewayRefund:
        form = {"payment_intent": intent_id, "amount": str(amount_minor), **_metadata(metadata)}
        body = await self._post("/v1/refunds", form, idempotency_key)
        return GatewayRefund(
            id=body["id"], status=body["status"], amount=body["amount"], failure=body.get("failure_reason")
        )

    async def cancel_payment_intent(self, *, intent_id: str, idempotency_key: str) -> GatewayIntent:
        body = await self._post(f"/v1/payment_intents/{intent_id}/cancel", {}, idempotency_key)
        return _intent(body)

    async def retrieve_payment_intent(self, *, intent_id: str) -> GatewayIntent:
        # A read changes nothing at the gateway, so it needs no idempotency key.
        body = await self._send("GET", f"/v1/payment_intents/{intent_id}", headers={})
        return _intent(body)

    async def create_checkout(
        self,
        *,
        amount_minor: int,
        currency: str,
        description: str,
        success_url: str,
        cancel_url: str,
        expires_at: int,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> GatewayCheckout:
        # One line of the whole amount; the intent the checkout creates carries our metadata too, so
        # that its webhooks find the payment as those of a directly created intent do.
        form = {
            "mode": "payment",
            "line_items[0][quantity]": "1",
            "line_items[0][price_data][currency]": currency.lower(),
            "line_items[0][price_data][unit_amount]": str(amount_minor),
            "line_items[0][price_data][product_data][name]": description,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": str(expires_at),
            "client_reference_id": metadata.get("payment_id", ""),
            **_metadata(metadata),
            **{f"payment_intent_data[metadata][{key}]": value for key, value in metadata.items()},
        }
        return checkout_from_body(await self._post("/v1/checkout/sessions", form, idempotency_key))

    async def retrieve_checkout(self, *, checkout_id: str) -> GatewayCheckout:
        return checkout_from_body(await self._send("GET", f"/v1/checkout/sessions/{checkout_id}", headers={}))

    async def expire_checkout(self, *, checkout_id: str, idempotency_key: str) -> GatewayCheckout:
        return checkout_from_body(
            await self._post(f"/v1/checkout/sessions/{checkout_id}/expire", {}, idempotency_key)
        )

    async def _post(self, path: str, form: dict[str, str], idempotency_key: str) -> dict[str, Any]:
        return await self._send("POST", path, headers={"Idempotency-Key": idempotency_key}, form=form)

    async def _send(
        self, method: str, path: str, *, headers: dict[str, str], form: dict[str, str] | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._secret_key}", **headers}
        try:
            async with httpx.AsyncClient(base_url=self._base_url, timeout=self._timeout_s) as client:
                response = await client.request(method, path, data=form, headers=headers)
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise GatewayUnreachable(f"{type(error).__name__}: {error}") from error
        if response.status_code >= 500 or response.status_code == 429:
            raise GatewayUnreachable(f"the gateway answered {response.status_code}")
        if response.status_code == 402 and isinstance(body.get("error", {}).get("payment_intent"), dict):
            # A card decline: the intent exists and says why; the caller records the failure.
            decline = body["error"]
            return {**decline["payment_intent"], "last_payment_error": {"message": decline.get("message")}}
        if response.status_code >= 400:
            raise GatewayRejected(str(body.get("error", {}).get("message") or response.status_code))
        return body


def gateway_from_settings(settings: Settings) -> StripeStyleGateway | None:
    """The configured gateway, or None when card payments are not set up."""
    if not settings.payment_gateway_url or settings.payment_gateway_secret_key is None:
        return None
    return StripeStyleGateway(
        base_url=settings.payment_gateway_url,
        secret_key=settings.payment_gateway_secret_key.get_secret_value(),
        timeout_s=settings.payment_gateway_timeout_s,
    )


def _metadata(metadata: dict[str, str]) -> dict[str, str]:
    return {f"metadata[{key}]": value for key, value in metadata.items()}


def _intent(body: dict[str, Any]) -> GatewayIntent:
    error = body.get("last_payment_error") or {}
    return GatewayIntent(
        id=body["id"],
        status=body["status"],
        amount=body["amount"],
        currency=body["currency"].upper(),
        client_secret=body.get("client_secret"),
        metadata=body.get("metadata") or {},
        failure=error.get("message"),
    )


def checkout_from_body(body: dict[str, Any]) -> GatewayCheckout:
    """A checkout as the gateway's API and webhooks describe it."""
    intent = body.get("payment_intent")
    return GatewayCheckout(
        id=body["id"],
        url=body.get("url"),
        status=body["status"],
        payment_status=body["payment_status"],
        # An id, or the intent itself when the caller asked for it to be expanded.
        payment_intent=intent["id"] if isinstance(intent, dict) else intent,
        amount=body["amount_total"],
        currency=body["currency"].upper(),
        metadata=body.get("metadata") or {},
    )
