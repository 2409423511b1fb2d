"""device identifiers: a device's IEEE EUI-64 and its UDI, for PCD-01, SDC and FHIR Device

Revision ID: 0044_device_identifiers
Revises: 0022_fhir_versions
Create Date: 2026-12-07

`devices.eui64` is the IEEE EUI-64 a medical device names itself by in IEEE 11073 (the MDS's
system id; OBX-18 of IHE PCD-01), as 16 upper-case hexadecimal digits, unique when given.
`devices.udi` is the Unique Device Identifier carrier in human-readable form, e.g.
`(01)00643169007222(17)160128(21)BLC200461H`, as printed on the device's label.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0044_device_identifiers"
down_revision: str | None = "0042_session_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("eui64", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("udi", sa.String(length=200), nullable=True))
        batch.create_unique_constraint(op.f("uq_devices_eui64"), ["eui64"])


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_constraint(op.f("uq_devices_eui64"), type_="unique")
        batch.drop_column("udi")
        batch.drop_column("eui64")
