"""Answers of the billing reports: ageing buckets and revenue rows, amounts in minor units."""

from __future__ import annotations

import enum
import uuid
from datetime import date

from pydantic import BaseModel

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


class Granularity(enum.StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


class AgeingBuckets(BaseModel):
    """Open balances by how far past due they are; `current` is not yet due."""

    currency: str
    current: int = 0
    days_1_30: int = 0
    days_31_60: int = 0
    days_61_90: int = 0
    days_over_90: int = 0
    total: int = 0
    count: int = 0


class PayerAgeing(AgeingBuckets):
    payer_id: uuid.UUID
    payer_name: str


class AgeingReport(BaseModel):
    as_of: date
    # Patients' open invoice balances, aged by the invoice's due date.
    patients: list[AgeingBuckets]
    # Claims awaiting the payer (submitted or accepted), aged by days since submission.
    payers: list[PayerAgeing]


class RevenueRow(BaseModel):
    period: str  # 2026-11-20, 2026-11 or 2026 by granularity, in UTC
    payer_id: uuid.UUID | None  # null: the patients themselves (self-pay, and shares after insurance)
    payer_name: str
    service_code: str
    currency: str
    amount_minor: int


class RevenueTotal(BaseModel):
    key: str
    currency: str
    amount_minor: int


class RevenueReport(BaseModel):
    start: date
    end: date  # exclusive
    granularity: Granularity
    rows: list[RevenueRow]
    by_period: list[RevenueTotal]
    by_payer: list[RevenueTotal]
    by_service: list[RevenueTotal]
