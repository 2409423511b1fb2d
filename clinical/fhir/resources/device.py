"""Device and DeviceMetric: the registry's medical devices and what each measures.

A Device carries its standard identifiers: the wire id (the system vital-sign Observations name it
by), the IEEE EUI-64 an IEEE 11073 device calls itself by (identified as the HL7 Personal Health
Device IG does, MDC_ATTR_SYS_ID), the serial number and the UDI carrier. `patient` is the patient
it is bound to now. A DeviceMetric is one measurement a device of its kind reports (`<device
id>.<metric alias>`), coded in LOINC and, where the device speaks it, IEEE 11073-10101 (MDC).

Who sees what: staff see every device (the patient a device is bound to is checked per resource,
as for any patient data); a patient sees the devices bound to them now, which is also what the
`device` of their vital-sign Observations leads to while they wear it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, Select, false, or_, select, true

from clinical.fhir.errors import InvalidSearch
from clinical.fhir.provider import FhirContext, Page, Rendered, ResourceProvider, TableProvider
from clinical.fhir.resources.common import coding, concept, drop_empty, meta, reference
from clinical.fhir.search.clauses import parse_uuid, string_clause, token_clause, wanted_codes
from clinical.fhir.search.request import SearchParameter, SearchRequest
from clinical.fhir.search.values import ParamType, ReferenceValue, TokenValue
from core.db import utc_now
from core.errors import NotFound
from core.principal import Principal
from devices.protocol import MDC_METRICS, METRICS_BY_KEY, metric_of_alias, metric_spec
from devices.registry import Device, DeviceBinding, DeviceKind, DeviceStatus, current_at
from devices.vitals import DEVICE_ID_SYSTEM, LOINC, UCUM

# The HL7 Personal Health Device IG's system for a device's IEEE EUI-64 (MDC_ATTR_SYS_ID).
EUI64_SYSTEM = "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680"
IDENTIFIER_TYPES = "http://terminology.hl7.org/CodeSystem/v2-0203"
KIND_SYSTEM = "https://ownat.org/fhir/CodeSystem/device-kind"
MDC_SYSTEM = "urn:iso:std:iso:11073:10101"
METRIC_CATEGORY_SYSTEM = "http://hl7.org/fhir/metric-category"
KIND_DISPLAY = {
    DeviceKind.BEDSIDE_MONITOR: "Bedside monitor",
    DeviceKind.PULSE_OXIMETER: "Pulse oximeter",
    DeviceKind.BP_CUFF: "Blood pressure cuff",
    DeviceKind.THERMOMETER: "Thermometer",
    DeviceKind.SCALE: "Weighing scale",
    DeviceKind.WEARABLE: "Wearable",
    DeviceKind.GATEWAY: "Gateway",
}
# What a device of each kind measures (Ownat metric aliases); a gateway measures nothing itself.
KIND_METRICS: dict[DeviceKind, tuple[str, ...]] = {
    DeviceKind.BEDSIDE_MONITOR: ("hr", "spo2", "rr", "sbp", "dbp", "temp"),
    DeviceKind.PULSE_OXIMETER: ("spo2", "hr"),
    DeviceKind.BP_CUFF: ("sbp", "dbp", "hr"),
    DeviceKind.THERMOMETER: ("temp",),
    DeviceKind.SCALE: ("weight",),
    DeviceKind.WEARABLE: ("hr", "spo2"),
    DeviceKind.GATEWAY: (),
}


def dashed_eui64(eui64: str) -> str:
    """00-1B-C5-FF-FE-0A-12-34, as the PHD IG writes an EUI-64."""
    return "-".join(eui64[i : i + 2] for i in range(0, 16, 2))


def udi_device_identifier(udi: str) -> str | None:
    """The UDI-DI of a GS1 carrier, `(01)` and its 14 digits; None for other issuers' formats."""
    if udi.startswith("(01)") and udi[4:18].isdigit() and len(udi) >= 18:
        return udi[4:18]
    return None


def _current_patients(now: datetime) -> Any:
    return select(DeviceBinding.device_uuid, DeviceBinding.patient_id).where(
        current_at(now), DeviceBinding.patient_id.is_not(None)
    )


def _bound_now_to(patient_ids: list[uuid.UUID]) -> ColumnElement[bool]:
    bound = select(DeviceBinding.device_uuid).where(
        current_at(utc_now()), DeviceBinding.patient_id.in_(patient_ids)
    )
    return Device.id.in_(bound)


def _identifier_clause(values: list[Any]) -> ColumnElement[bool]:
    """Any of the identifiers: EUI-64 (in any spelling), wire id, serial number (no system)."""
    clauses: list[ColumnElement[bool]] = []
    eui64 = wanted_codes(values, EUI64_SYSTEM)
    clauses.append(
        Device.eui64.is_not(None)
        if eui64.any_code
        else Device.eui64.in_([code.replace("-", "").replace(":", "").upper() for code in eui64.codes])
    )
    wire = wanted_codes(values, DEVICE_ID_SYSTEM)
    clauses.append(true() if wire.any_code else Device.device_id.in_(wire.codes))
    serial = wanted_codes(values, None)
    clauses.append(Device.serial.in_(serial.codes) if serial.codes else false())
    return or_(*clauses)


def _udi_di_clause(values: list[Any]) -> ColumnElement[bool]:
    codes = [value.code for value in values if isinstance(value, TokenValue) and value.code]
    return or_(false(), *(Device.udi.like(f"(01){code}%") for code in codes if code.isdigit()))


def _patient_clause(values: list[Any]) -> ColumnElement[bool]:
    ids: list[uuid.UUID] = []
    for value in values:
        assert isinstance(value, ReferenceValue)
        if value.resource_type not in (None, "Patient"):
            raise InvalidSearch(f"This parameter refers to Patient, not {value.resource_type}.")
        if (parsed := parse_uuid(value.id)) is not None:
            ids.append(parsed)
    return _bound_now_to(ids) if ids else false()


_STATUS = {"active": DeviceStatus.ACTIVE, "inactive": (DeviceStatus.DEACTIVATED, DeviceStatus.REVOKED)}


class DeviceProvider(TableProvider):
    resource_type = "Device"
    model = Device
    order = (Device.device_id,)
    documentation: ClassVar[str] = (
        "Registered medical devices with their EUI-64, serial number and UDI; a patient sees the "
        "devices bound to them now."
    )

    def scope(self, query: Select[Any], principal: Principal) -> Select[Any]:
        if principal.is_staff:
            return query
        if principal.patient_id is None:
            return query.where(false())
        return query.where(_bound_now_to([principal.patient_id]))

    async def read(self, ctx: FhirContext, resource_id: str) -> Rendered:
        rendered = await super().read(ctx, resource_id)  # another patient's device is refused there
        if not ctx.principal.is_staff and rendered.patient_id is None:
            # Bound to nobody: nothing of a patient's, so nothing a patient may read.
            raise NotFound(f"There is no Device with id '{resource_id}'.")
        return rendered

    def search_parameters(self) -> dict[str, SearchParameter]:
        return {
            "identifier": SearchParameter(
                "identifier",
                ParamType.TOKEN,
                f"{EUI64_SYSTEM}|<EUI-64>, {DEVICE_ID_SYSTEM}|<wire id>, or a serial number",
                _identifier_clause,
            ),
            "manufacturer": SearchParameter(
                "manufacturer",
                ParamType.STRING,
                "Manufacturer (starts with)",
                string_clause(Device.manufacturer),
            ),
            "model": SearchParameter(
                "model", ParamType.STRING, "Model (starts with)", string_clause(Device.model)
            ),
            "status": SearchParameter(
                "status",
                ParamType.TOKEN,
                "active or inactive",
                token_clause(Device.status, system=None, mapping=_STATUS),
            ),
            "type": SearchParameter(
                "type",
                ParamType.TOKEN,
                f"{KIND_SYSTEM}|<kind>",
                token_clause(Device.kind, system=KIND_SYSTEM),
            ),
            "udi-carrier": SearchParameter(
                "udi-carrier", ParamType.STRING, "UDI carrier, human-readable form", string_clause(Device.udi)
            ),
            "udi-di": SearchParameter(
                "udi-di", ParamType.TOKEN, "UDI device identifier (GS1 GTIN)", _udi_di_clause
            ),
            "patient": SearchParameter(
                "patient", ParamType.REFERENCE, "The patient the device is bound to now", _patient_clause
            ),
        }

    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        ids = [row.id for row in rows]
        patients: dict[uuid.UUID, uuid.UUID] = {}
        if ids:
            found = await ctx.session.execute(
                _current_patients(utc_now()).where(DeviceBinding.device_uuid.in_(ids))
            )
            patients = {device_uuid: patient_id for device_uuid, patient_id in found}
        return [Rendered(device_resource(row, patients.get(row.id)), patients.get(row.id)) for row in rows]


def device_resource(device: Device, patient_id: uuid.UUID | None) -> dict[str, Any]:
    """The FHIR Device of one registered device."""
    identifiers: list[dict[str, Any]] = [{"system": DEVICE_ID_SYSTEM, "value": device.device_id}]
    if device.eui64:
        identifiers.append(
            {"type": {"text": "EUI-64"}, "system": EUI64_SYSTEM, "value": dashed_eui64(device.eui64)}
        )
    identifiers.append({"type": concept(IDENTIFIER_TYPES, "SNO", "Serial Number"), "value": device.serial})
    udi = (
        [drop_empty({"deviceIdentifier": udi_device_identifier(device.udi), "carrierHRF": device.udi})]
        if device.udi
        else []
    )
    return drop_empty(
        {
            "resourceType": "Device",
            "id": str(device.id),
            "meta": meta(device),
            "identifier": identifiers,
            "udiCarrier": udi,
            "status": "active" if device.status is DeviceStatus.ACTIVE else "inactive",
            "manufacturer": device.manufacturer,
            "serialNumber": device.serial,
            "deviceName": [{"name": device.model, "type": "model-name"}],
            "modelNumber": device.model,
            "type": concept(KIND_SYSTEM, device.kind.value, KIND_DISPLAY.get(device.kind)),
            "version": [{"value": device.firmware}] if device.firmware else [],
            "patient": reference("Patient", patient_id) if patient_id else None,
        }
    )


def metric_resource(device: Device, alias: str) -> dict[str, Any]:
    """The DeviceMetric of one measurement of `device`."""
    spec = metric_spec(alias)
    codings = [coding(LOINC, spec.code, spec.display)]
    if (mdc_metric := metric_of_alias(alias)) is not None:
        codings.append(coding(MDC_SYSTEM, str(mdc_metric.code), mdc_metric.refid))
    return {
        "resourceType": "DeviceMetric",
        "id": f"{device.id}.{spec.alias}",
        "meta": meta(device),
        "type": {"coding": codings, "text": spec.display},
        "unit": {"coding": [coding(UCUM, spec.unit)], "text": spec.unit},
        "source": reference("Device", device.id, device.device_id),
        "operationalStatus": "on" if device.status is DeviceStatus.ACTIVE else "off",
        "category": "measurement",
    }


def _metric_key(resource_id: str) -> tuple[uuid.UUID, str] | None:
    device, _, alias = resource_id.partition(".")
    parsed = parse_uuid(device)
    return (parsed, alias) if parsed is not None and alias in METRICS_BY_KEY else None


class DeviceMetricProvider(ResourceProvider):
    """One DeviceMetric per metric a device's kind measures (computed: not stored, one version)."""

    resource_type = "DeviceMetric"
    documentation: ClassVar[str] = "What each device measures, coded in LOINC and IEEE 11073-10101 (MDC)."

    def __init__(self) -> None:
        self._devices = DeviceProvider()

    def parameters(self) -> Mapping[str, SearchParameter]:
        return {
            "_id": SearchParameter("_id", ParamType.TOKEN, "Logical id (<device id>.<metric>)"),
            "source": SearchParameter("source", ParamType.REFERENCE, "The Device (Device/<id>)"),
            "type": SearchParameter("type", ParamType.TOKEN, f"{LOINC}|<code> or {MDC_SYSTEM}|<code>"),
        }

    async def read(self, ctx: FhirContext, resource_id: str) -> Rendered:
        key = _metric_key(resource_id)
        if key is not None:
            device_uuid, alias = key
            rendered = await self._metrics(ctx, [Device.id == device_uuid], {alias}, scoped=False)
            # The device's rules: another patient's is refused (and audited), nobody's is not found.
            if rendered and (ctx.principal.is_staff or rendered[0].patient_id is not None):
                return self._devices.owned(ctx, rendered[0])
        raise NotFound(f"There is no DeviceMetric with id '{resource_id}'.")

    async def search(self, ctx: FhirContext, request: SearchRequest) -> Page:
        where: list[ColumnElement[bool]] = []
        aliases: set[str] | None = None
        for criterion in request.criteria:
            if criterion.name == "_id":
                keys = [_metric_key(v.code or "") for v in criterion.values if isinstance(v, TokenValue)]
                where.append(Device.id.in_([k[0] for k in keys if k]))
                aliases = _narrow(aliases, {k[1] for k in keys if k})
            elif criterion.name == "source":
                ids = [parse_uuid(v.id) for v in criterion.values if isinstance(v, ReferenceValue)]
                where.append(Device.id.in_([i for i in ids if i is not None]))
            elif criterion.name == "type":
                aliases = _narrow(aliases, _aliases_of(criterion.values))
        items = await self._metrics(ctx, where, aliases)
        return Page(total=len(items), items=items[request.offset : request.offset + request.count])

    async def _metrics(
        self,
        ctx: FhirContext,
        where: list[ColumnElement[bool]],
        aliases: set[str] | None,
        *,
        scoped: bool = True,
    ) -> list[Rendered]:
        query = select(Device).where(*where).order_by(Device.device_id)
        if scoped:
            query = self._devices.scope(query, ctx.principal)
        devices = list(await ctx.session.scalars(query))
        owners = {r.resource["id"]: r.patient_id for r in await self._devices.render(ctx, devices)}
        return [
            Rendered(metric_resource(device, alias), owners.get(str(device.id)), versioned=False)
            for device in devices
            for alias in KIND_METRICS.get(device.kind, ())
            if aliases is None or alias in aliases
        ]


def _narrow(current: set[str] | None, wanted: set[str]) -> set[str]:
    return wanted if current is None else current & wanted


def _aliases_of(values: list[Any]) -> set[str]:
    loinc = wanted_codes(values, LOINC)
    by_mdc = wanted_codes(values, MDC_SYSTEM)
    found = set()
    for spec in METRICS_BY_KEY.values():
        if loinc.admits(spec.code):
            found.add(spec.alias)
    for metric in MDC_METRICS:
        if by_mdc.admits(str(metric.code)):
            found.add(metric.alias)
    return found
