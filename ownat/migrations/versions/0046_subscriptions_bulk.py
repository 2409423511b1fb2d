"""subscriptions and bulk export: FHIR topic-based subscriptions, their events and rest-hook deliveries; export jobs

Revision ID: 0046_subscriptions_bulk
Revises: 0021_visit_payments
Create Date: 2026-12-07

`fhir_subscriptions` holds R4B-backport Subscriptions (topic, filter target, channel, owner),
`fhir_subscription_events` their numbered events (for `$events`), `fhir_hook_deliveries` the
notification Bundles waiting to be POSTed to rest-hooks, `fhir_subscription_cursor` how far the
subscription feed has read the outbox. `fhir_export_jobs` tracks Bulk Data `$export` requests.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0046_subscriptions_bulk"
down_revision: str | None = "0044_device_identifiers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "fhir_subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("ward_id", sa.Uuid(), nullable=True),
        sa.Column("criteria", sa.String(length=500), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("channel_type", sa.String(length=16), nullable=False),
        sa.Column("endpoint", sa.String(length=2000), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("content", sa.String(length=16), nullable=False),
        sa.Column("heartbeat_period_s", sa.Integer(), nullable=True),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("end_at", WHEN, nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("owner_user_id", sa.Uuid(), nullable=False),
        sa.Column("owner_role", sa.String(length=16), nullable=False),
        sa.Column("owner_patient_id", sa.Uuid(), nullable=True),
        sa.Column("events_since_start", sa.Integer(), nullable=False),
        sa.Column("last_sent_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_fhir_subscriptions_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ward_id"], ["wards.id"], name=op.f("fk_fhir_subscriptions_ward_id_wards"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_subscriptions")),
    )
    op.create_index(
        op.f("ix_fhir_subscriptions_owner_user_id"), "fhir_subscriptions", ["owner_user_id"], unique=False
    )
    op.create_table(
        "fhir_subscription_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("occurred_at", WHEN, nullable=False),
        sa.Column("focus", sa.String(length=200), nullable=False),
        sa.Column("resource", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["fhir_subscriptions.id"],
            name=op.f("fk_fhir_subscription_events_subscription_id_fhir_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_subscription_events")),
        sa.UniqueConstraint(
            "subscription_id", "event_key", name=op.f("uq_fhir_subscription_events_subscription_id_event_key")
        ),
    )
    op.create_index(
        "ix_fhir_subscription_events_subscription_id_number",
        "fhir_subscription_events",
        ["subscription_id", "number"],
        unique=False,
    )
    op.create_table(
        "fhir_hook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=False),
        sa.Column("lease_until", WHEN, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["fhir_subscriptions.id"],
            name=op.f("fk_fhir_hook_deliveries_subscription_id_fhir_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_hook_deliveries")),
    )
    op.create_index(
        op.f("ix_fhir_hook_deliveries_subscription_id"),
        "fhir_hook_deliveries",
        ["subscription_id"],
        unique=False,
    )
    op.create_index(
        "ix_fhir_hook_deliveries_status_next_attempt_at",
        "fhir_hook_deliveries",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_table(
        "fhir_subscription_cursor",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", WHEN, nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_fhir_subscription_cursor")),
    )
    op.create_table(
        "fhir_export_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("types", sa.JSON(), nullable=False),
        sa.Column("since", WHEN, nullable=True),
        sa.Column("request_url", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.String(length=200), nullable=True),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("requester_role", sa.String(length=16), nullable=False),
        sa.Column("output", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("lease_until", WHEN, nullable=True),
        sa.Column("expires_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_export_jobs")),
    )
    op.create_index(
        op.f("ix_fhir_export_jobs_requested_by"), "fhir_export_jobs", ["requested_by"], unique=False
    )
    op.create_index(
        "ix_fhir_export_jobs_status_created_at", "fhir_export_jobs", ["status", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("fhir_export_jobs")
    op.drop_table("fhir_subscription_cursor")
    op.drop_table("fhir_hook_deliveries")
    op.drop_table("fhir_subscription_events")
    op.drop_table("fhir_subscriptions")
