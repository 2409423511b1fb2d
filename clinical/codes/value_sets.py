"""Column types for coded values: a FHIR value set stored as a string checked by a constraint."""

from __future__ import annotations

import enum

from sqlalchemy import Enum


def value_set_column(values: type[enum.StrEnum], name: str, length: int = 32) -> Enum:
    """A string column restricted to the enum's values, not a native enum: adding a code is a small migration."""
    return Enum(
        values,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
