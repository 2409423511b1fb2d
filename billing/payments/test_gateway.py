"""A card gateway for development and tests: the Stripe-style HTTP API Ownat's provider speaks
(`gateway.py`), served on loopback. Never for production: it charges nothing, keeps everything in
memory, and takes any card number typed on its page (test cards decide the outcome).

`ownat dev` serves it so that the demo's Pay button works end to end; the tests use it as the other
party of the gateway provider (as aiosmtpd is for mail), not as a mock of our code. It speaks:
form-encoded PaymentIntents, Refunds and Checkout Sessions with bearer secret keys, Idempotency-Key
replays, card declines as 402, a hosted payment page (`test_gateway_page.py`), and signed webhook
events, posted to `webhook_url` when one is set (as a real gateway does) or kept for a test to post.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from billing.payments.test_gateway_page import page_routes
from billing.payments.webhooks import sign
from core.settings import Settings

log = logging.getLogger(__name__)
DECLINED_CARD = "pm_card_chargeDeclined"
# A real gateway retries a webhook it could not deliver for days; a few tries are enough here.
WEBHOOK_RETRIES_S = (1.0, 3.0, 10.0)

Reply = tuple[int, dict[str, Any]]


@dataclass
class GatewayState:
    secret_key: str
    webhook_secret: str
    # Where the hosted page is reached (this server's own address), and where events are posted.
    public_url: str = ""
    webhook_url: str | None = None
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    checkouts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Idempotency-Key -> (request form, status code, answer), as the real gateway keeps them.
    replies: dict[str, tuple[dict[str, str], int, dict[str, Any]]] = field(default_factory=dict)
    # Simulates a lost answer: the next intent is created, but the caller gets a 500.
    lose_next_answer: bool = False
    # Payments left "processing" and refunds "pending" (settled later by a webhook), not done at once.
    settle_later: bool = False
    # Every request that reached the gateway, as (method, path), replays included: what was asked how often.
    calls: list[tuple[str, str]] = field(default_factory=list)
    # Events made while no webhook_url is set, for a test to deliver: (type, object).
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _deliveries: set[asyncio.Task[None]] = field(default_factory=set)

    def intents_for(self, payment_id: str) -> list[dict[str, Any]]:
        return [i for i in self.intents.values() if i["metadata"].get("payment_id") == payment_id]

    def signed_event(
        self, event_type: str, obj: dict[str, Any], *, secret: str | None = None, timestamp: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """A webhook body and its headers, as the gateway would post them."""
        body = json.dumps(
            {"id": f"evt_{secrets.token_hex(12)}", "type": event_type, "data": {"object": obj}}
        ).encode()
        signature = sign(body, secret=secret or self.webhook_secret, timestamp=timestamp or int(time.time()))
        return body, {"Stripe-Signature": signature, "Content-Type": "application/json"}

    def new_intent(self, *, amount: int, currency: str, metadata: dict[str, str]) -> dict[str, Any]:
        """A PaymentIntent waiting for a payment method."""
        intent_id = f"pi_{secrets.token_hex(12)}"
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "currency": currency,
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
            "metadata": metadata,
            "status": "requires_payment_method",
            "last_payment_error": None,
            "amount_refunded": 0,
        }
        self.intents[intent_id] = intent
        return intent

    async def emit(self, event_type: str, obj: dict[str, Any]) -> None:
        """Posts the event to the webhook, retrying in the background if it does not take it."""
        if self.webhook_url is None:
            self.events.append((event_type, dict(obj)))
            return
        body, headers = self.signed_event(event_type, obj)
        if await self._post(body, headers):
            return
        task = asyncio.create_task(self._retry(body, headers))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _retry(self, body: bytes, headers: dict[str, str]) -> None:
        for delay_s in WEBHOOK_RETRIES_S:
            await asyncio.sleep(delay_s)
            if await self._post(body, headers):
                return
        log.error("the test gateway gave up delivering a webhook to %s", self.webhook_url)

    async def _post(self, body: bytes, headers: dict[str, str]) -> bool:
        assert self.webhook_url is not None
        try:
            async with httpx.AsyncClient(timeout=10.0) as client:
                response = await client.post(self.webhook_url, content=body, headers=headers)
        except httpx.HTTPError as error:
            log.warning("test gateway webhook not delivered: %s", error)
            return False
        return response.status_code < 300


def form_metadata(form: dict[str, str], prefix: str = "metadata") -> dict[str, str]:
    """`prefix[key]=value` fields of a form, as a dict."""
    start = f"{prefix}["
    return {k[len(start) : -1]: v for k, v in form.items() if k.startswith(start) and k.endswith("]")}


def _error(status: int, message: str, kind: str = "invalid_request_error") -> Reply:
    return status, {"error": {"type": kind, "message": message}}


def api_routes(state: GatewayState) -> list[Route]:
    """The gateway's REST API (secret key required)."""

    async def guarded(request: Request, handler: Callable[[dict[str, str]], Reply]) -> JSONResponse:
        state.calls.append((request.method, request.url.path))
        if request.headers.get("authorization") != f"Bearer {state.secret_key}":
            status, answer = _error(401, "Invalid API Key")
            return JSONResponse(answer, status)
        form = {k: str(v) for k, v in (await request.form()).items()}
        key = request.headers.get("idempotency-key")
        if key and key in state.replies:
            first_form, status, answer = state.replies[key]
            if first_form != form:
                return JSONResponse({"error": {"type": "idempotency_error", "message": "Keys reused"}}, 400)
            return JSONResponse(answer, status)
        status, answer = handler(form)
        if key:
            state.replies[key] = (form, status, answer)
        if state.lose_next_answer:
            state.lose_next_answer = False
            return JSONResponse({"error": {"type": "api_error"}}, 500)
        return JSONResponse(answer, status)

    def create_intent(form: dict[str, str]) -> Reply:
        intent = state.new_intent(
            amount=int(form["amount"]), currency=form["currency"], metadata=form_metadata(form)
        )
        method = form.get("payment_method")
        if method == DECLINED_CARD:
            intent["last_payment_error"] = {"code": "card_declined", "message": "Your card was declined."}
            error = {
                **_error(402, "Your card was declined.", "card_error")[1]["error"],
                "code": "card_declined",
            }
            return 402, {"error": {**error, "payment_intent": intent}}
        if method and form.get("confirm") == "true":
            intent["status"] = "processing" if state.settle_later else "succeeded"
        return 200, intent

    def create_refund(form: dict[str, str]) -> Reply:
        intent = state.intents.get(form.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return _error(400, "No such payment_intent")
        amount = int(form["amount"])
        if amount > intent["amount"] - intent["amount_refunded"]:
            return _error(400, "Refund exceeds the charge")
        intent["amount_refunded"] += amount
        refund = {
            "id": f"re_{secrets.token_hex(12)}",
            "object": "refund",
            "amount": amount,
            "payment_intent": intent["id"],
            "status": "pending" if state.settle_later else "succeeded",
            "metadata": form_metadata(form),
        }
        state.refunds[refund["id"]] = refund
        return 200, refund

    def cancel_intent(intent_id: str) -> Callable[[dict[str, str]], Reply]:
        def cancel(form: dict[str, str]) -> Reply:
            intent = state.intents.get(intent_id)
            if intent is None or intent["status"] == "succeeded":
                return _error(400, "This PaymentIntent's status is succeeded; it cannot be canceled.")
            intent["status"] = "canceled"
            return 200, intent

        return cancel

    def retrieve_intent(intent_id: str) -> Callable[[dict[str, str]], Reply]:
        def retrieve(form: dict[str, str]) -> Reply:
            intent = state.intents.get(intent_id)
            return (200, intent) if intent is not None else _error(404, "No such payment_intent")

        return retrieve

    def create_checkout(form: dict[str, str]) -> Reply:
        checkout_id = f"cs_test_{secrets.token_hex(12)}"
        checkout = {
            "id": checkout_id,
            "object": "checkout.session",
            "url": f"{state.public_url}/pay/{checkout_id}",
            "status": "open",
            "payment_status": "unpaid",
            "payment_intent": None,
            "amount_total": int(form["line_items[0][price_data][unit_amount]"])
            * int(form["line_items[0][quantity]"]),
            "currency": form["line_items[0][price_data][currency]"],
            "description": form.get("line_items[0][price_data][product_data][name]", ""),
            "metadata": form_metadata(form),
            "intent_metadata": form_metadata(form, "payment_intent_data[metadata]"),
            "success_url": form["success_url"],
            "cancel_url": form["cancel_url"],
            "expires_at": int(form.get("expires_at") or time.time() + 86400),
        }
        state.checkouts[checkout_id] = checkout
        return 200, checkout

    def checkout_action(checkout_id: str, expire: bool) -> Callable[[dict[str, str]], Reply]:
        def act(form: dict[str, str]) -> Reply:
            checkout = state.checkouts.get(checkout_id)
            if checkout is None:
                return _error(404, "No such checkout.session")
            if expire and checkout["status"] != "open":
                return _error(400, 'Only Checkout Sessions with a status in ["open"] can be expired.')
            if expire:
                expire_checkout(state, checkout)
            return 200, checkout

        return act

    async def intents(request: Request) -> Response:
        return await guarded(request, create_intent)

    async def refunds(request: Request) -> Response:
        return await guarded(request, create_refund)

    async def retrieve(request: Request) -> Response:
        return await guarded(request, retrieve_intent(request.path_params["intent_id"]))

    async def cancel(request: Request) -> Response:
        return await guarded(request, cancel_intent(request.path_params["intent_id"]))

    async def checkouts(request: Request) -> Response:
        return await guarded(request, create_checkout)

    async def checkout_read(request: Request) -> Response:
        return await guarded(request, checkout_action(request.path_params["checkout_id"], expire=False))

    async def checkout_expire(request: Request) -> Response:
        checkout_id = request.path_params["checkout_id"]
        response = await guarded(request, checkout_action(checkout_id, expire=True))
        if response.status_code == 200 and checkout_id in state.checkouts:
            await state.emit("checkout.session.expired", state.checkouts[checkout_id])
        return response

    return [
        Route("/v1/payment_intents", intents, methods=["POST"]),
        Route("/v1/refunds", refunds, methods=["POST"]),
        Route("/v1/payment_intents/{intent_id}", retrieve, methods=["GET"]),
        Route("/v1/payment_intents/{intent_id}/cancel", cancel, methods=["POST"]),
        Route("/v1/checkout/sessions", checkouts, methods=["POST"]),
        Route("/v1/checkout/sessions/{checkout_id}", checkout_read, methods=["GET"]),
        Route("/v1/checkout/sessions/{checkout_id}/expire", checkout_expire, methods=["POST"]),
    ]


def expire_checkout(state: GatewayState, checkout: dict[str, Any]) -> None:
    """Closes an open checkout; its intent, if any, is canceled with it."""
    checkout["status"], checkout["url"] = "expired", None
    intent = state.intents.get(checkout["payment_intent"] or "")
    if intent is not None and intent["status"] != "succeeded":
        intent["status"] = "canceled"


def build_app(state: GatewayState) -> Starlette:
    """The gateway: its API and its hosted payment page."""
    return Starlette(routes=[*api_routes(state), *page_routes(state)])


class GatewayServer:
    """Serves the test gateway on a free loopback port, in the caller's event loop."""

    def __init__(self, *, webhook_url: str | None = None) -> None:
        self.state = GatewayState(
            secret_key=f"sk_test_{secrets.token_hex(12)}",
            webhook_secret=f"whsec_{secrets.token_hex(16)}",
            webhook_url=webhook_url,
        )
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.state.public_url = self.url
        config = uvicorn.Config(build_app(self.state), log_level="warning", lifespan="off", log_config=None)
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> GatewayServer:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    def configure(self, settings: Settings) -> Settings:
        """`settings` with card payments through this gateway (its URL, secret key and webhook secret)."""
        return settings.model_copy(
            update={
                "payment_gateway_url": self.url,
                "payment_gateway_secret_key": SecretStr(self.state.secret_key),
                "payment_webhook_secret": SecretStr(self.state.webhook_secret),
            }
        )

    async def start(self) -> None:
        # uvicorn's own steps, so that start returns once the socket is served (no polling).
        self._server.config.load()
        self._server.lifespan = self._server.config.lifespan_class(self._server.config)
        await self._server.startup(sockets=[self._socket])
        self._task = asyncio.create_task(self._server.main_loop())

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task
        await self._server.shutdown(sockets=[self._socket])
        self._socket.close()
        for task in list(self.state._deliveries):
            task.cancel()
