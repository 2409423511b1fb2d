"""A stand-in for an outside card gateway speaking a Stripe-style HTTP API, served on loopback.

It is the other party of our gateway provider in tests (like aiosmtpd for mail), not a mock of our
code: form-encoded PaymentIntents and Refunds, bearer secret keys, Idempotency-Key replays, card
declines as 402, and signed webhook events that tests deliver to the app.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from billing.payments.webhooks import sign

DECLINED_CARD = "pm_card_chargeDeclined"


@dataclass
class GatewayState:
    secret_key: str
    webhook_secret: str
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Idempotency-Key -> (request form, status code, answer), as the real gateway keeps them.
    replies: dict[str, tuple[dict[str, str], int, dict[str, Any]]] = field(default_factory=dict)
    # Simulates a lost answer: the next intent is created, but the caller gets a 500.
    lose_next_answer: bool = False
    # Payments left "processing" and refunds "pending" (settled later by a webhook), not done at once.
    settle_later: bool = False
    # Every request that reached the gateway, as (method, path), replays included: what was asked how often.
    calls: list[tuple[str, str]] = field(default_factory=list)

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


def _metadata(form: dict[str, str]) -> dict[str, str]:
    return {k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[")}


def build_app(state: GatewayState) -> Starlette:
    async def guarded(request: Request, handler: Any) -> JSONResponse:
        state.calls.append((request.method, request.url.path))
        if request.headers.get("authorization") != f"Bearer {state.secret_key}":
            return JSONResponse(
                {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}, 401
            )
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

    def create_intent(form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        intent_id = f"pi_{secrets.token_hex(12)}"
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(form["amount"]),
            "currency": form["currency"],
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
            "metadata": _metadata(form),
            "status": "requires_payment_method",
            "last_payment_error": None,
            "amount_refunded": 0,
        }
        state.intents[intent_id] = intent
        method = form.get("payment_method")
        if method == DECLINED_CARD:
            intent["last_payment_error"] = {"code": "card_declined", "message": "Your card was declined."}
            error = {
                "type": "card_error",
                "code": "card_declined",
                "message": "Your card was declined.",
                "payment_intent": intent,
            }
            return 402, {"error": error}
        if method and form.get("confirm") == "true":
            intent["status"] = "processing" if state.settle_later else "succeeded"
        return 200, intent

    def create_refund(form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        intent = state.intents.get(form.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return 400, {"error": {"type": "invalid_request_error", "message": "No such payment_intent"}}
        amount = int(form["amount"])
        if amount > intent["amount"] - intent["amount_refunded"]:
            return 400, {"error": {"type": "invalid_request_error", "message": "Refund exceeds the charge"}}
        intent["amount_refunded"] += amount
        refund = {
            "id": f"re_{secrets.token_hex(12)}",
            "object": "refund",
            "amount": amount,
            "payment_intent": intent["id"],
            "status": "pending" if state.settle_later else "succeeded",
            "metadata": _metadata(form),
        }
        state.refunds[refund["id"]] = refund
        return 200, refund

    def cancel_intent(intent_id: str) -> Any:
        def cancel(form: dict[str, str]) -> tuple[int, dict[str, Any]]:
            intent = state.intents.get(intent_id)
            if intent is None or intent["status"] == "succeeded":
                message = "This PaymentIntent's status is succeeded; it cannot be canceled."
                return 400, {"error": {"type": "invalid_request_error", "message": message}}
            intent["status"] = "canceled"
            return 200, intent

        return cancel

    def retrieve_intent(intent_id: str) -> Any:
        def retrieve(form: dict[str, str]) -> tuple[int, dict[str, Any]]:
            intent = state.intents.get(intent_id)
            if intent is None:
                return 404, {"error": {"type": "invalid_request_error", "message": "No such payment_intent"}}
            return 200, intent

        return retrieve

    async def retrieve(request: Request) -> JSONResponse:
        return await guarded(request, retrieve_intent(request.path_params["intent_id"]))

    async def cancel(request: Request) -> JSONResponse:
        return await guarded(request, cancel_intent(request.path_params["intent_id"]))

    async def intents(request: Request) -> JSONResponse:
        return await guarded(request, create_intent)

    async def refunds(request: Request) -> JSONResponse:
        return await guarded(request, create_refund)

    return Starlette(
        routes=[
            Route("/v1/payment_intents", intents, methods=["POST"]),
            Route("/v1/refunds", refunds, methods=["POST"]),
            Route("/v1/payment_intents/{intent_id}", retrieve, methods=["GET"]),
            Route("/v1/payment_intents/{intent_id}/cancel", cancel, methods=["POST"]),
        ]
    )


class GatewayServer:
    """Serves the stand-in on a free loopback port for the test session."""

    def __init__(self) -> None:
        self.state = GatewayState(
            secret_key=f"sk_test_{secrets.token_hex(12)}", webhook_secret=f"whsec_{secrets.token_hex(16)}"
        )
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(build_app(self.state), log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

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
