"""The vitals store: one narrow time-partitioned table of readings, one-minute rollups, the queries
behind charts and dashboards, and the FHIR Observation mapping of a reading.

Storage by dialect (all of it in `partitions`): a TimescaleDB hypertable with compression and
retention policies when the extension is there; native PostgreSQL range partitions (daily, created
ahead, dropped by retention) when it is not; a plain table on SQLite in the embedded mode.

Offers the chart and dashboard reads (`get_series`, `get_latest`, `get_observations`,
`latest_values`, `device_coverage`), the FHIR Observation of a reading, the storage set-up and upkeep
that ingestion and migrations run (`choose_storage`, `refresh_rollups`, `apply_retention`, ...) and
`reattribute` for corrected bindings.
"""

from devices.vitals.corrections import reattribute
from devices.vitals.coverage import device_coverage
from devices.vitals.coverage_hours import refresh_coverage_hours
from devices.vitals.fhir import DEVICE_ID_SYSTEM, LOINC, UCUM, reading_observation

# Exposed for joins: ingestion writes readings; FHIR Observation and technical alarms read them.
from devices.vitals.models import DEVICE_ID_LENGTH, VitalReading
from devices.vitals.partitions import (
    PARTITION_DAYS_AHEAD,
    RETENTION_DAYS,
    ROLLUP_RETENTION_DAYS,
    apply_retention,
    choose_storage,
    drop_storage,
    finish_storage,
    table_options,
)
from devices.vitals.queries import latest_values
from devices.vitals.rollups import refresh_rollups
from devices.vitals.schemas import Bucket, LatestValue, VitalSeries
from devices.vitals.service import MAX_OBSERVATIONS, get_latest, get_observations, get_series

__all__ = [
    "DEVICE_ID_LENGTH",
    "DEVICE_ID_SYSTEM",
    "LOINC",
    "MAX_OBSERVATIONS",
    "PARTITION_DAYS_AHEAD",
    "RETENTION_DAYS",
    "ROLLUP_RETENTION_DAYS",
    "UCUM",
    "Bucket",
    "LatestValue",
    "VitalReading",
    "VitalSeries",
    "apply_retention",
    "choose_storage",
    "device_coverage",
    "drop_storage",
    "finish_storage",
    "get_latest",
    "get_observations",
    "get_series",
    "latest_values",
    "reading_observation",
    "reattribute",
    "refresh_coverage_hours",
    "refresh_rollups",
    "table_options",
]
