"""What the registry accepts and returns over the API."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from core.paging import Page
from devices.protocol import DEVICE_ID_PATTERN, AwareTime
from devices.registry.dynsec import RESERVED_PREFIX
from devices.registry.models import FIRMWARE_LENGTH, NAME_LENGTH, UDI_LENGTH, DeviceKind, DeviceStatus


def _device_id(value: str) -> str:
    if not DEVICE_ID_PATTERN.match(value):
        raise ValueError(
            "a device id is 1-64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if value.lower().startswith(RESERVED_PREFIX):
        raise ValueError(f"device ids starting with {RESERVED_PREFIX!r} are reserved for platform accounts")
    return value


DeviceId = Annotated[str, AfterValidator(_device_id)]

_EUI64_SEPARATORS = re.compile(r"[-:\s]")


def _eui64(value: str) -> str:
    # Written 00-1B-C5-FF-FE-0A-12-34, 00:1b:..., or as OBX-18 carries it, 001BC5FFFE0A1234.
    digits = _EUI64_SEPARATORS.sub("", value).upper()
    if len(digits) != 16 or any(c not in "0123456789ABCDEF" for c in digits):
        raise ValueError(
            "an EUI-64 is 16 hexadecimal digits, e.g. 00-1B-C5-FF-FE-0A-12-34 or 001BC5FFFE0A1234"
        )
    return digits


def _udi(value: str) -> str:
    if any(ord(c) < 32 for c in value):
        raise ValueError("give the UDI in human-readable form, e.g. (01)00643169007222(21)BLC200461H")
    return value


Eui64 = Annotated[str, AfterValidator(_eui64)]
Udi = Annotated[str, Field(min_length=1, max_length=UDI_LENGTH), AfterValidator(_udi)]
Name = Annotated[str, Field(min_length=1, max_length=NAME_LENGTH)]
Firmware = Annotated[str, Field(min_length=1, max_length=FIRMWARE_LENGTH)]
Reason = Annotated[str, Field(min_length=1, max_length=200)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DeviceCreate(_Input):
    device_id: DeviceId
    kind: DeviceKind
    manufacturer: Name
    model: Name
    serial: Name
    firmware: Firmware | None = None
    eui64: Eui64 | None = Field(default=None, description="IEEE EUI-64 of an IEEE 11073 device")
    udi: Udi | None = Field(default=None, description="UDI carrier, human-readable form")


class DeviceUpdate(_Input):
    """Fields to change; an omitted field is left as it is, `firmware: null` (eui64, udi) clears it."""

    model: Name | None = None
    firmware: Firmware | None = None
    eui64: Eui64 | None = None
    udi: Udi | None = None

    @model_validator(mode="after")
    def _something(self) -> DeviceUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of: model, firmware, eui64, udi")
        if "model" in self.model_fields_set and self.model is None:
            raise ValueError("model cannot be cleared")
        return self


class StatusChange(_Input):
    reason: Reason


class BindingRead(BaseModel):
    """A binding of a device to a patient and/or bed over [start_at, end_at)."""

    id: uuid.UUID
    device: uuid.UUID
    device_id: str
    patient_id: uuid.UUID | None
    bed_id: uuid.UUID | None
    ward_id: uuid.UUID | None
    start_at: datetime
    end_at: datetime | None
    end_reason: str | None
    bound_by: uuid.UUID | None
    ended_by: uuid.UUID | None


class DeviceRead(BaseModel):
    id: uuid.UUID
    device_id: str
    kind: DeviceKind
    manufacturer: str
    model: str
    serial: str
    firmware: str | None
    eui64: str | None = Field(description="IEEE EUI-64, 16 upper-case hexadecimal digits")
    udi: str | None = Field(description="UDI carrier, human-readable form")
    status: DeviceStatus
    status_changed_at: datetime | None
    status_reason: str | None
    credential_issued_at: datetime | None = Field(
        description="when the current secret was issued; null: none"
    )
    current_binding: BindingRead | None
    created_at: datetime
    updated_at: datetime


class DevicePage(Page[DeviceRead]):
    """Devices in device-id order; the cursor is the last device id, handed back as `after`."""

    next_cursor: str | None = Field(description="pass as `after` for the next page; null on the last page")


class CredentialIssued(BaseModel):
    """A new secret. It is shown here once and never again: the registry keeps only a hash."""

    credential_id: uuid.UUID
    device_id: str
    username: str = Field(description="the MQTT username: the device id")
    secret: str = Field(description="the MQTT password; store it on the device now")
    topic_prefix: str
    issued_at: datetime
    broker_updated: bool = Field(description="false when the platform does not administer the broker")


class BindingCreate(_Input):
    """Bind to a patient, a bed, or both; a bed implies its ward. `start_at` defaults to now."""

    patient_id: uuid.UUID | None = None
    bed_id: uuid.UUID | None = None
    ward_id: uuid.UUID | None = None
    start_at: AwareTime | None = None

    @model_validator(mode="after")
    def _target(self) -> BindingCreate:
        if self.patient_id is None and self.bed_id is None:
            raise ValueError("give a patient_id, a bed_id or both")
        return self


class BindingEnd(_Input):
    """`end_at` defaults to now; it may be earlier (recording a move after the fact), never before the start."""

    end_at: AwareTime | None = None
    reason: Annotated[str, Field(min_length=1, max_length=32)] = "unbound"


class DeviceSummary(BaseModel):
    id: uuid.UUID
    device_id: str
    kind: DeviceKind
    manufacturer: str
    model: str


class PatientDeviceRead(BaseModel):
    """A device bound to a patient: what a patient may see about the devices measuring them."""

    binding_id: uuid.UUID
    device: DeviceSummary
    bed_id: uuid.UUID | None
    ward_id: uuid.UUID | None
    start_at: datetime
    end_at: datetime | None
