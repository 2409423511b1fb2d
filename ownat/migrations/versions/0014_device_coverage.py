"""device coverage: per device and hour, the minutes covered, the first and last, silences inside

Revision ID: 0014_device_coverage
Revises: 0013_notifications
Create Date: 2026-11-24

`device_coverage_1h` summarises `vital_rollups_1m` so that the coverage report reads one row per
device and hour. It is a small plain table on every database (about 2.6 million rows a year for 300
devices): nothing to partition or make a hypertable, and retention is a range delete on its hour
index. On PostgreSQL the primary key carries the figures (INCLUDE), so that the report reads a year
by an index-only scan in (device, hour) order. The upgrade fills it from the rollups already stored. The statement is written out here,
not imported from `devices.vitals.coverage_hours`, so that this revision keeps doing what it did
when the module changes later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_device_coverage"
down_revision: str | None = "0013_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# More than five silent minutes between two covered minutes (a step over six) is a gap.
GAP_STEP_MINUTES = 6
_HOUR = {
    "postgresql": "date_bin('1 hour', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00')",
    "sqlite": "strftime('%Y-%m-%d %H:00:00.000000', bucket)",
}
_MINUTE_NUMBER = {
    "postgresql": "CAST(extract(epoch FROM bucket) AS bigint) / 60",
    "sqlite": "CAST(strftime('%s', bucket) AS INTEGER) / 60",
}
_BACKFILL = """
INSERT INTO device_coverage_1h (device_id, hour, covered_minutes, first_minute, last_minute, gaps_inside)
SELECT device_id, hour, count(*), min(bucket), max(bucket), sum(CASE WHEN step > {gap_step} THEN 1 ELSE 0 END)
FROM (
    SELECT device_id, hour, bucket, minute - lag(minute) OVER (PARTITION BY device_id, hour ORDER BY bucket) AS step
    FROM (SELECT DISTINCT device_id, {hour} AS hour, bucket, {minute} AS minute FROM vital_rollups_1m) covered
) stepped
GROUP BY device_id, hour
"""


def upgrade() -> None:
    op.create_table(
        "device_coverage_1h",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("covered_minutes", sa.SmallInteger(), nullable=False),
        sa.Column("first_minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gaps_inside", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "device_id",
            "hour",
            name="pk_device_coverage_1h",
            postgresql_include=["covered_minutes", "first_minute", "last_minute", "gaps_inside"],
        ),
    )
    op.create_index("ix_device_coverage_1h_hour", "device_coverage_1h", ["hour"])
    dialect = op.get_bind().dialect.name
    op.execute(
        _BACKFILL.format(hour=_HOUR[dialect], minute=_MINUTE_NUMBER[dialect], gap_step=GAP_STEP_MINUTES)
    )


def downgrade() -> None:
    op.drop_index("ix_device_coverage_1h_hour", table_name="device_coverage_1h")
    op.drop_table("device_coverage_1h")
