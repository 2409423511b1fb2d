"""The test gateway's hosted payment page: where the patient, sent from Ownat's portal, types a card.

Test cards decide the outcome, as a real gateway's test mode does: 4242 4242 4242 4242 succeeds;
4000 0000 0000 0002 is declined, 4000 0000 0000 9995 has insufficient funds, 4000 0000 0000 0069 is
expired. A success completes the checkout and sends the browser back to Ownat; a decline is said on
the page, which offers another try or the way back. Each outcome is posted to Ownat's webhook before
the browser moves on, as a real gateway would (a little earlier than most).
"""

from __future__ import annotations

import html
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from billing.payments.card_numbers import luhn_valid

if TYPE_CHECKING:
    from billing.payments.test_gateway import GatewayState

SUCCEEDS = "4242424242424242"
DECLINES = {
    "4000000000000002": ("card_declined", "Your card was declined."),
    "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
    "4000000000000069": ("expired_card", "Your card has expired."),
}
TEST_CARDS = (
    ("4242 4242 4242 4242", "succeeds"),
    ("4000 0000 0000 0002", "declined"),
    ("4000 0000 0000 9995", "declined: insufficient funds"),
    ("4000 0000 0000 0069", "declined: expired card"),
)
# The page is this server's own: no script, nothing from elsewhere, never framed.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
STYLE = """
* { box-sizing: border-box; }
body { font-family: system-ui, sans-serif; background: #f4f1fb; color: #1f1a2e; margin: 0; padding: 1rem; }
main { max-width: 30rem; margin: 1rem auto; background: #fff; padding: 1.5rem; border-radius: 10px;
       border: 1px solid #d8d0ea; }
.banner { background: #fff4d6; border: 1px solid #e0b400; padding: .5rem .75rem; border-radius: 6px; }
label { display: flex; flex-direction: column; gap: .25rem; font-weight: 600; margin: .75rem 0; }
input { font: inherit; padding: .55rem .7rem; border: 1px solid #8a80a8; border-radius: 6px; min-height: 44px; }
.row { display: flex; gap: .75rem; } .row label { flex: 1; min-width: 0; }
input { width: 100%; }
button { font: inherit; font-weight: 600; width: 100%; min-height: 44px; border: 0; border-radius: 6px;
         background: #5b3cc4; color: #fff; margin-top: .5rem; cursor: pointer; }
.error { background: #fdecea; border: 1px solid #b42318; color: #7a1a12; padding: .5rem .75rem; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; } td { padding: .25rem 0; font-size: .92rem; }
code { font-size: 1rem; }
"""


def page_routes(state: GatewayState) -> list[Route]:
    """GET shows the page of an open checkout; POST pays it with the card typed."""

    async def show(request: Request) -> Response:
        checkout = _open_checkout(state, request.path_params["checkout_id"])
        if checkout is None:
            return _page(
                "This payment page has closed", "<p>Go back to Ownat and start the payment again.</p>", 410
            )
        return _page(f"Pay {_amount(checkout)}", _form(checkout, error=None))

    async def pay(request: Request) -> Response:
        checkout = _open_checkout(state, request.path_params["checkout_id"])
        if checkout is None:
            return _page(
                "This payment page has closed", "<p>Go back to Ownat and start the payment again.</p>", 410
            )
        form = await request.form()
        problem = _card_problem(
            str(form.get("card_number", "")), str(form.get("expiry", "")), str(form.get("cvc", ""))
        )
        intent = _intent_of(state, checkout)
        if problem is not None:
            code, message = problem
            intent["last_payment_error"] = {"code": code, "message": message}
            await state.emit("payment_intent.payment_failed", intent)
            return _page(f"Pay {_amount(checkout)}", _form(checkout, error=message), 402)
        intent["status"], intent["last_payment_error"] = "succeeded", None
        checkout.update(status="complete", payment_status="paid", url=None)
        await state.emit("payment_intent.succeeded", intent)
        await state.emit("checkout.session.completed", checkout)
        return RedirectResponse(checkout["success_url"], status_code=303, headers=HEADERS)

    return [
        Route("/pay/{checkout_id}", show, methods=["GET"]),
        Route("/pay/{checkout_id}", pay, methods=["POST"]),
    ]


def _open_checkout(state: GatewayState, checkout_id: str) -> dict[str, Any] | None:
    checkout = state.checkouts.get(checkout_id)
    if checkout is not None and checkout["status"] == "open" and checkout["expires_at"] <= time.time():
        checkout.update(status="expired", url=None)
    return checkout if checkout is not None and checkout["status"] == "open" else None


def _intent_of(state: GatewayState, checkout: dict[str, Any]) -> dict[str, Any]:
    """The checkout's intent, made on the first attempt and kept for the next ones."""
    intent = state.intents.get(checkout["payment_intent"] or "")
    if intent is None:
        intent = state.new_intent(
            amount=checkout["amount_total"],
            currency=checkout["currency"],
            metadata=checkout["intent_metadata"],
        )
        checkout["payment_intent"] = intent["id"]
    return intent


def _card_problem(number: str, expiry: str, cvc: str) -> tuple[str, str] | None:
    """Why the card typed is refused, as (code, message), or None when it pays."""
    digits = re.sub(r"[ -]", "", number)
    if not digits.isdigit() or not 12 <= len(digits) <= 19 or not luhn_valid(digits):
        return "incorrect_number", "Your card number is incorrect."
    match = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*", expiry)
    if match is None or not 1 <= int(match[1]) <= 12:
        return "invalid_expiry", "Enter the expiry date as MM/YY."
    year = int(match[2]) + (2000 if len(match[2]) == 2 else 0)
    now = datetime.now(UTC)
    if (year, int(match[1])) < (now.year, now.month):
        return "expired_card", "Your card has expired."
    if not re.fullmatch(r"\d{3,4}", cvc.strip()):
        return "invalid_cvc", "Enter the 3 or 4 digit security code from the back of the card."
    if digits in DECLINES:
        return DECLINES[digits]
    if digits != SUCCEEDS:
        return "test_mode_live_card", "This is a test gateway: use one of the test cards below."
    return None


def _amount(checkout: dict[str, Any]) -> str:
    whole, cents = divmod(int(checkout["amount_total"]), 100)
    return f"{whole}.{cents:02d} {str(checkout['currency']).upper()}"


def _form(checkout: dict[str, Any], *, error: str | None) -> str:
    amount, escape = _amount(checkout), html.escape
    rows = "".join(f"<tr><td><code>{number}</code></td><td>{what}</td></tr>" for number, what in TEST_CARDS)
    alert = f'<p class="error" role="alert">{escape(error)} Nothing was charged.</p>' if error else ""
    return f"""
<p>{escape(checkout["description"] or "Payment")} · to the hospital, through Ownat</p>
{alert}
<form method="post">
  <label>Card number<input name="card_number" inputmode="numeric" autocomplete="cc-number" required></label>
  <div class="row">
    <label>Expiry (MM/YY)<input name="expiry" placeholder="12/34" autocomplete="cc-exp" required></label>
    <label>Security code<input name="cvc" inputmode="numeric" autocomplete="cc-csc" required></label>
  </div>
  <label>Name on card<input name="name" autocomplete="cc-name"></label>
  <button type="submit">Pay {escape(amount)}</button>
</form>
<p><a href="{escape(checkout["cancel_url"])}">Cancel and return to Ownat</a></p>
<h2>Test cards</h2>
<table>{rows}</table>
<p>Any expiry date in the future and any 3-digit security code.</p>
"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · Ownat test gateway</title><style>{STYLE}</style></head>
<body><main>
<p class="banner"><strong>Test gateway</strong> for development only: no real card is charged.</p>
<h1>{html.escape(title)}</h1>
{body}
</main></body></html>"""
    return HTMLResponse(document, status_code=status, headers=HEADERS)
