"""Money as integer minor units with an ISO 4217 code: the column types and the arithmetic billing shares."""

from __future__ import annotations

from sqlalchemy import BigInteger, String

CURRENCY_LENGTH = 3
# Tax rates in basis points (1/100 of a percent): 1900 is 19 %, exact in integers.
BASIS_POINTS = 10_000


def amount_column() -> BigInteger:
    """Minor units (cents): 64-bit, so no realistic total overflows."""
    return BigInteger()


def currency_column() -> String:
    return String(CURRENCY_LENGTH)


def tax_on(net_minor: int, rate_bp: int) -> int:
    """Tax on a net amount, rounded half up to the minor unit (the usual commercial rounding)."""
    return (net_minor * rate_bp + BASIS_POINTS // 2) // BASIS_POINTS


# ISO 4217 minor units where they are not two (the currencies a hospital is likely to bill in).
_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}


def format_money(amount_minor: int, currency: str) -> str:
    """ "125.50 USD" for 12550 USD: how error messages name amounts (by integer arithmetic)."""
    exponent = _EXPONENTS.get(currency, 2)
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(amount_minor), 10**exponent)
    return f"{sign}{whole}{f'.{fraction:0{exponent}d}' if exponent else ''} {currency}"
