"""What the vitals API returns: series (raw points or buckets) and the latest value per metric."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

Bucket = Literal["raw", "1m", "5m", "15m", "1h"]
BUCKET_WIDTHS: dict[str, timedelta] = {
    "1m": timedelta(minutes=1),
    "5m": timedelta(minutes=5),
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
}


class VitalPoint(BaseModel):
    """One stored reading."""

    time: datetime
    value: float
    device_id: str


class VitalBucket(BaseModel):
    """The readings of one bucket, summarised."""

    start: datetime
    min: float
    max: float
    avg: float
    count: int


class VitalSeries(BaseModel):
    """One patient's metric over [start, end): raw points, or buckets of `bucket` width."""

    patient_id: uuid.UUID
    metric: str = Field(description="LOINC code")
    display: str
    unit: str = Field(description="UCUM unit of every value")
    bucket: Bucket
    start: datetime
    end: datetime
    source: Literal["raw", "rollup"] = Field(description="raw readings, or the one-minute rollups")
    points: list[VitalPoint] = Field(default_factory=list)
    buckets: list[VitalBucket] = Field(default_factory=list)
    truncated: bool = Field(default=False, description="more raw points exist; ask again from `next_start`")
    next_start: datetime | None = None


class LatestValue(BaseModel):
    """The newest reading of one metric of one patient."""

    patient_id: uuid.UUID
    metric: str
    display: str
    value: float
    unit: str
    time: datetime
    device_id: str
