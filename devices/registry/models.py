"""Registry tables: devices, their broker credentials and their bindings to patients and beds.

Naming: throughout the device tier `device_id` is the wire id (the MQTT username and topic segment);
a reference to a device's row is `device_uuid`.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, PublicIdMixin, TimestampMixin, UTCDateTime, utc_now, value_set_column

DEVICE_ID_LENGTH = 64
NAME_LENGTH = 100
FIRMWARE_LENGTH = 64
EUI64_LENGTH = 16
UDI_LENGTH = 200
# A binding covers [start_at, end_at); an open binding (end_at NULL) runs to infinity. Half-open ranges
# let a device move from one patient to the next at the same instant without overlapping.
BINDING_RANGE = text("tstzrange(start_at, end_at, '[)')")


class DeviceKind(enum.StrEnum):
    BEDSIDE_MONITOR = "bedside_monitor"
    PULSE_OXIMETER = "pulse_oximeter"
    BP_CUFF = "bp_cuff"
    THERMOMETER = "thermometer"
    SCALE = "scale"
    WEARABLE = "wearable"
    GATEWAY = "gateway"


class DeviceStatus(enum.StrEnum):
    """`active` devices may connect; `deactivated` ones are out of service; `revoked` ones are distrusted."""

    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    REVOKED = "revoked"


class Device(PublicIdMixin, TimestampMixin, Base):
    """A registered medical device; `device_id` is what it calls itself on the wire."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("manufacturer", "serial"),)

    device_id: Mapped[str] = mapped_column(String(DEVICE_ID_LENGTH), unique=True)
    kind: Mapped[DeviceKind] = mapped_column(value_set_column(DeviceKind, "kind", 32))
    manufacturer: Mapped[str] = mapped_column(String(NAME_LENGTH))
    model: Mapped[str] = mapped_column(String(NAME_LENGTH))
    serial: Mapped[str] = mapped_column(String(NAME_LENGTH))
    firmware: Mapped[str | None] = mapped_column(String(FIRMWARE_LENGTH))
    # Standard identifiers (migration 0044): the IEEE EUI-64 an IEEE 11073 device names itself by
    # (16 upper-case hex digits), and the UDI carrier in human-readable form from its label.
    eui64: Mapped[str | None] = mapped_column(String(EUI64_LENGTH), unique=True)
    udi: Mapped[str | None] = mapped_column(String(UDI_LENGTH))
    status: Mapped[DeviceStatus] = mapped_column(
        value_set_column(DeviceStatus, "status", 16), default=DeviceStatus.ACTIVE, index=True
    )
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_reason: Mapped[str | None] = mapped_column(String(200))
    registered_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class DeviceCredential(PublicIdMixin, Base):
    """One secret issued to a device; only its PBKDF2-SHA512 hash is kept (see `credentials`)."""

    __tablename__ = "device_credentials"
    __table_args__ = (
        # At most one usable secret per device: rotation revokes the old one in the same transaction.
        Index(
            "ix_device_credentials_one_active",
            "device_uuid",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
            sqlite_where=text("revoked_at IS NULL"),
        ),
    )

    device_uuid: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    # Mosquitto's own `$7$<iterations>$<salt>$<hash>` encoding, which both of its auth backends read.
    secret_hash: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    issued_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class DeviceBinding(PublicIdMixin, TimestampMixin, Base):
    """A device attached to a patient and/or bed over [start_at, end_at); readings go to who is bound."""

    __tablename__ = "device_bindings"
    __table_args__ = (
        CheckConstraint("end_at IS NULL OR end_at > start_at", name="ends_after_start"),
        CheckConstraint("patient_id IS NOT NULL OR bed_id IS NOT NULL", name="has_target"),
        CheckConstraint("bed_id IS NULL OR ward_id IS NOT NULL", name="bed_has_ward"),
        # SQLite has no exclusion constraints; the service checks overlaps there under BEGIN IMMEDIATE.
        ExcludeConstraint(
            ("device_uuid", "="),
            (BINDING_RANGE, "&&"),
            name="ex_device_bindings_device_overlap",
            using="gist",
        ).ddl_if(dialect="postgresql"),
        Index("ix_device_bindings_device_uuid_start_at", "device_uuid", "start_at"),
        Index("ix_device_bindings_patient_id_start_at", "patient_id", "start_at"),
        Index("ix_device_bindings_ward_id_end_at", "ward_id", "end_at"),
    )

    device_uuid: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    # Beds and wards with binding history cannot be deleted (they are deactivated instead).
    bed_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("beds.id"))
    # The bed's ward, copied so that "devices on this ward" needs no join; may be set without a bed.
    ward_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("wards.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bound_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ended_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    end_reason: Mapped[str | None] = mapped_column(String(32))
