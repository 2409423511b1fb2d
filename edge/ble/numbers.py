"""IEEE 11073-20601 FLOAT and SFLOAT, as the Bluetooth health profiles carry measurements.

Both are a signed mantissa times a power of ten: SFLOAT is 16 bits (4-bit exponent, 12-bit
mantissa), FLOAT 32 bits (8-bit exponent, 24-bit mantissa), little-endian on the air like every GATT
field. Some mantissas, with exponent 0, are not numbers but say why there is none (20601 section
F.8): NaN (not a number: no value), NRes (not at this resolution), +INF and -INF (out of range),
and one reserved. They are returned as a `SpecialValue`, never as a float that could be stored.
"""

from __future__ import annotations

import enum
from decimal import Decimal


class SpecialValue(enum.Enum):
    NAN = "NaN (no value)"
    NRES = "NRes (not at this resolution)"
    POSITIVE_INFINITY = "+INF (above the measuring range)"
    NEGATIVE_INFINITY = "-INF (below the measuring range)"
    RESERVED = "a reserved special value"


# Mantissa -> meaning, for exponent 0 (20601 Table F.1 and F.2).
_SFLOAT_SPECIAL = {
    0x07FF: SpecialValue.NAN,
    0x0800: SpecialValue.NRES,
    0x07FE: SpecialValue.POSITIVE_INFINITY,
    0x0802: SpecialValue.NEGATIVE_INFINITY,
    0x0801: SpecialValue.RESERVED,
}
_FLOAT_SPECIAL = {
    0x007FFFFF: SpecialValue.NAN,
    0x00800000: SpecialValue.NRES,
    0x007FFFFE: SpecialValue.POSITIVE_INFINITY,
    0x00800002: SpecialValue.NEGATIVE_INFINITY,
    0x00800001: SpecialValue.RESERVED,
}


def _signed(raw: int, bits: int) -> int:
    return raw - (1 << bits) if raw & (1 << (bits - 1)) else raw


def _scaled(mantissa: int, exponent: int) -> float:
    # Decimal keeps 365 * 10**-1 at 36.5, where 365 * 0.1 would be 36.500000000000004.
    return float(Decimal(mantissa).scaleb(exponent))


def sfloat(data: bytes | bytearray, offset: int = 0) -> float | SpecialValue:
    """The SFLOAT at `offset`; IndexError-free: the caller checks the length first."""
    raw = int.from_bytes(data[offset : offset + 2], "little")
    mantissa_bits, exponent = raw & 0x0FFF, _signed(raw >> 12, 4)
    if exponent == 0 and mantissa_bits in _SFLOAT_SPECIAL:
        return _SFLOAT_SPECIAL[mantissa_bits]
    return _scaled(_signed(mantissa_bits, 12), exponent)


def float32(data: bytes | bytearray, offset: int = 0) -> float | SpecialValue:
    """The FLOAT (32-bit) at `offset`."""
    raw = int.from_bytes(data[offset : offset + 4], "little")
    mantissa_bits, exponent = raw & 0x00FFFFFF, _signed(raw >> 24, 8)
    if exponent == 0 and mantissa_bits in _FLOAT_SPECIAL:
        return _FLOAT_SPECIAL[mantissa_bits]
    return _scaled(_signed(mantissa_bits, 24), exponent)
