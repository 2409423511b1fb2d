"""Refusing card numbers: Ownat never takes a primary account number (PAN), whatever field it comes in.

Cards are typed on the payment gateway's own page; what reaches Ownat is at most a gateway token.
A card number arriving anyway (pasted into a reference, sent as a "token" by a careless integration)
is refused before anything is stored, forwarded or logged: the error names the field but never
repeats the value. A PAN is 12 to 19 digits passing the Luhn check, written with or without single
spaces or dashes between them (ISO/IEC 7812).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

# A run of 12-19 digits, single spaces or dashes allowed between digits, not part of a longer number.
_DIGIT_RUN = re.compile(r"(?<![\d])\d(?:[ -]?\d){11,18}(?![\d])")
PAN_REFUSED = (
    "This looks like a card number. Card numbers are typed on the payment provider's page only and "
    "must never be sent to Ownat: remove it."
)


def luhn_valid(digits: str) -> bool:
    """Whether the digit string passes the Luhn (mod 10) check that every card number carries."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def contains_card_number(text: str) -> bool:
    """Whether `text` holds something that looks like a card number (a Luhn-valid run of 12-19 digits)."""
    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if luhn_valid(digits):
            return True
    return False


def find_card_number(value: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """Where in a JSON-like value (strings, numbers, lists, objects) a card number is, or None."""
    if isinstance(value, str | int) and not isinstance(value, bool):
        return path if contains_card_number(str(value)) else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and contains_card_number(key):
            return (*path, "(a field's name)")  # the name itself is the number: never repeated
        found = find_card_number(item, (*path, key))
        if found is not None:
            return found
    return None


class NoCardNumbers(BaseModel):
    """Base of every payment request: a card number anywhere in it, known field or not, is refused."""

    # A validation error's text repeats the input; payment requests' errors must never carry a card.
    model_config = ConfigDict(hide_input_in_errors=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_card_numbers(cls, data: Any) -> Any:
        # Before the fields are validated, so that no other error (which could carry the value) comes first.
        found = find_card_number(data)
        if found is not None:
            where = "/".join(str(part) for part in found) or "the request"
            raise PydanticCustomError(
                "card_number", "{where}: {reason}", {"where": where, "reason": PAN_REFUSED}
            )
        return data
