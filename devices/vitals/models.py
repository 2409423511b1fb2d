"""The readings table, its one-minute rollups and the hourly device coverage derived from them.

`vital_readings` is narrow on purpose (time, device, patient, metric, value, unit): one row per value,
keyed by (device_id, metric, time) so that a redelivered MQTT message stores nothing twice. Which
patient a reading belongs to is decided at ingest, from the device's binding at the reading's time.
The table is partitioned by time on PostgreSQL; the DDL for that lives in `devices.vitals.partitions`,
not here, because it differs between TimescaleDB and native partitioning.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, PrimaryKeyConstraint, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime

DEVICE_ID_LENGTH = 64
METRIC_LENGTH = 32
UNIT_LENGTH = 16


class VitalReading(Base):
    """One measured value of one metric (a LOINC code) from one device at one instant."""

    __tablename__ = "vital_readings"
    __table_args__ = (
        # The natural key is the primary key: the unique (device, metric, time) that makes redelivery harmless.
        PrimaryKeyConstraint("device_id", "metric", "time", name="pk_vital_readings"),
        # Charts and the dashboard snapshot read one patient's metric newest first.
        Index(
            "ix_vital_readings_patient_id_metric_time",
            "patient_id",
            "metric",
            text("time DESC"),
        ),
        # Rollup refreshes and retention scan by time; rows arrive in time order, which BRIN thrives on.
        Index("ix_vital_readings_time", "time", postgresql_using="brin"),
    )

    time: Mapped[datetime] = mapped_column(UTCDateTime)
    device_id: Mapped[str] = mapped_column(String(DEVICE_ID_LENGTH))
    patient_id: Mapped[uuid.UUID | None] = mapped_column()
    metric: Mapped[str] = mapped_column(String(METRIC_LENGTH))
    value: Mapped[float] = mapped_column(Float(precision=53))
    unit: Mapped[str] = mapped_column(String(UNIT_LENGTH))


class VitalRollup1m(Base):
    """Min, max, sum and count of one patient's metric from one device over one minute.

    Only attributed readings are rolled up: charts are per patient. Keeping sum and count (not the
    average) lets coarser buckets be computed exactly from these rows.
    """

    __tablename__ = "vital_rollups_1m"
    __table_args__ = (
        PrimaryKeyConstraint("patient_id", "metric", "bucket", "device_id", name="pk_vital_rollups_1m"),
        # Retention deletes by bucket.
        Index("ix_vital_rollups_1m_bucket", "bucket"),
    )

    bucket: Mapped[datetime] = mapped_column(UTCDateTime)
    patient_id: Mapped[uuid.UUID] = mapped_column()
    device_id: Mapped[str] = mapped_column(String(DEVICE_ID_LENGTH))
    metric: Mapped[str] = mapped_column(String(METRIC_LENGTH))
    min_value: Mapped[float] = mapped_column(Float(precision=53))
    max_value: Mapped[float] = mapped_column(Float(precision=53))
    sum_value: Mapped[float] = mapped_column(Float(precision=53))
    count: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))


class DeviceCoverage1h(Base):
    """Which minutes of one hour a device covered: a summary of its one-minute rollups.

    A minute is covered when the device has at least one rollup row in it (any patient, any metric).
    `gaps_inside` counts silences longer than the coverage report's gap between covered minutes of
    this hour; with `first_minute` and `last_minute`, the report finds the silences between hours
    too, so that it reads one row per device and hour instead of sixty. Kept by `refresh_rollups`.
    """

    __tablename__ = "device_coverage_1h"
    __table_args__ = (
        # Device first: the report walks each device's hours in order (lag over device, hour). The
        # figures ride in the index (PostgreSQL) so that walk never visits the table, whose rows lie
        # in the order refreshes wrote them, hour by hour across every device.
        PrimaryKeyConstraint(
            "device_id",
            "hour",
            name="pk_device_coverage_1h",
            postgresql_include=["covered_minutes", "first_minute", "last_minute", "gaps_inside"],
        ),
        # Refreshes recompute a few recent hours of every device.
        Index("ix_device_coverage_1h_hour", "hour"),
    )

    device_id: Mapped[str] = mapped_column(String(DEVICE_ID_LENGTH))
    hour: Mapped[datetime] = mapped_column(UTCDateTime)
    covered_minutes: Mapped[int] = mapped_column(SmallInteger)
    first_minute: Mapped[datetime] = mapped_column(UTCDateTime)
    last_minute: Mapped[datetime] = mapped_column(UTCDateTime)
    gaps_inside: Mapped[int] = mapped_column(SmallInteger)
