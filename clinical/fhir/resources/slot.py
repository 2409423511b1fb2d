"""Slot: free slots, computed by the scheduling service from working hours, leave and bookings.

Free slots are not rows: a Slot's id encodes what identifies it (practitioner, appointment type and
start), so it can be read back; once booked it is no longer free and reads as not found.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from clinical import scheduling
from clinical.fhir.constants import PRACTITIONER_SPECIALTY, SERVICE_TYPE, SLOT_STATUS
from clinical.fhir.errors import InvalidSearch
from clinical.fhir.provider import FhirContext, Page, Rendered, ResourceProvider
from clinical.fhir.resources.common import base36, concept, instant, reference
from clinical.fhir.search.clauses import parse_uuid, wanted_codes
from clinical.fhir.search.request import SearchParameter, SearchRequest
from clinical.fhir.search.values import DateValue, ParamType, ReferenceValue
from clinical.organisation import PractitionerSpecialty
from clinical.scheduling import SlotRead, UnknownAppointmentType, UnknownPractitioner
from core.db import utc_now
from core.errors import NotFound

DEFAULT_WINDOW = timedelta(days=7)
# Searching every practitioner named in one query separately: keep that list short.
MAX_PRACTITIONERS_PER_SEARCH = 20


class SlotProvider(ResourceProvider):
    resource_type = "Slot"
    patient_data = False
    documentation = (
        "Free slots only (status=free), computed per appointment type (service-type); without "
        "start criteria the next 7 days are searched, at most 31 days at a time."
    )

    def parameters(self) -> Mapping[str, SearchParameter]:
        return {
            "schedule": SearchParameter("schedule", ParamType.REFERENCE, "Schedule/<practitioner id>"),
            "practitioner": SearchParameter("practitioner", ParamType.REFERENCE, "The practitioner"),
            "start": SearchParameter("start", ParamType.DATE, "Slot start (ge, gt, le, lt, eq)"),
            "status": SearchParameter("status", ParamType.TOKEN, "Only 'free' slots are served"),
            "service-type": SearchParameter("service-type", ParamType.TOKEN, "Appointment type code"),
            "specialty": SearchParameter("specialty", ParamType.TOKEN, "Practitioner specialty code"),
        }

    async def read(self, ctx: FhirContext, resource_id: str) -> Rendered:
        decoded = decode_slot_id(resource_id)
        if decoded is None:
            raise NotFound(f"There is no Slot with id '{resource_id}'.")
        practitioner_id, code, start = decoded
        try:
            found = await scheduling.find_free_slots(
                session=ctx.session,
                actor=ctx.principal,
                appointment_type=code,
                start=start,
                end=start + timedelta(minutes=1),
                practitioner_id=practitioner_id,
            )
        except (UnknownAppointmentType, UnknownPractitioner):
            found = None
        slot = next((s for s in found.items if s.start_at == start), None) if found else None
        if slot is None:
            raise NotFound(f"The Slot '{resource_id}' is not free (any more).")
        specialties = await _specialties(ctx, {practitioner_id})
        return Rendered(
            slot_resource(slot, code, specialties.get(practitioner_id, [])), None, versioned=False
        )

    async def search(self, ctx: FhirContext, request: SearchRequest) -> Page:
        if any(not _wants_free(values) for values in request.values_of("status")):
            return Page(total=0, items=[])
        start, end = _window(request)
        types = [t.code for t in await scheduling.list_types(session=ctx.session, actor=ctx.principal)]
        codes = _codes_asked(request, "service-type", SERVICE_TYPE, every=types)
        specialty_options = _codes_asked(request, "specialty", PRACTITIONER_SPECIALTY, every=[None])
        if request.values_of("specialty") and specialty_options == [None]:
            specialty_options = await _every_specialty(ctx)
        practitioners: list[uuid.UUID | None] = [*_practitioners(request)] or [None]
        slots: list[tuple[SlotRead, str]] = []
        for code in codes:
            for practitioner_id in practitioners:
                for specialty in specialty_options:
                    slots += [
                        (slot, code)
                        for slot in await _free(ctx, code, start, end, practitioner_id, specialty)
                    ]
        # A practitioner with several asked-for specialties offers each slot once.
        unique = {(s.practitioner_id, s.start_at, code): (s, code) for s, code in slots}
        ordered = sorted(
            unique.values(), key=lambda pair: (pair[0].start_at, str(pair[0].practitioner_id), pair[1])
        )
        page = ordered[request.offset : request.offset + request.count]
        specialties = await _specialties(ctx, {s.practitioner_id for s, _ in page})
        return Page(
            total=len(ordered),
            items=[
                Rendered(
                    slot_resource(s, code, specialties.get(s.practitioner_id, [])), None, versioned=False
                )
                for s, code in page
            ],
        )


def _codes_asked(request: SearchRequest, name: str, system: str, *, every: list[Any]) -> list[Any]:
    """The codes a token parameter asks for (all of `every` when it is absent or says `system|`)."""
    values = _single(request, name)
    if not values:
        return every
    wanted = wanted_codes(values, system)
    return every if wanted.any_code else sorted(wanted.codes)


async def _every_specialty(ctx: FhirContext) -> list[str | None]:
    found = await ctx.session.scalars(select(PractitionerSpecialty.specialty).distinct())
    return [*sorted(found)]


async def _specialties(ctx: FhirContext, practitioner_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Each practitioner's specialty codes, for the Slots that show them."""
    by_practitioner: dict[uuid.UUID, list[str]] = {}
    if practitioner_ids:
        rows = await ctx.session.execute(
            select(PractitionerSpecialty.practitioner_id, PractitionerSpecialty.specialty)
            .where(PractitionerSpecialty.practitioner_id.in_(practitioner_ids))
            .order_by(PractitionerSpecialty.specialty)
        )
        for practitioner_id, specialty in rows:
            by_practitioner.setdefault(practitioner_id, []).append(specialty)
    return by_practitioner


async def _free(
    ctx: FhirContext,
    code: str,
    start: datetime,
    end: datetime,
    practitioner_id: uuid.UUID | None,
    specialty: str | None,
) -> list[SlotRead]:
    try:
        found = await scheduling.find_free_slots(
            session=ctx.session,
            actor=ctx.principal,
            appointment_type=code,
            start=start,
            end=end,
            practitioner_id=practitioner_id,
            specialty=specialty,
            limit=scheduling.MAX_SLOTS,
        )
    except (UnknownAppointmentType, UnknownPractitioner):
        # A search naming something unknown matches nothing; it is not an error in FHIR.
        return []
    return found.items


def _single(request: SearchRequest, name: str) -> list[Any]:
    occurrences = request.values_of(name)
    if len(occurrences) > 1:
        raise InvalidSearch(f"Give '{name}' once (separate alternatives with commas).")
    return occurrences[0] if occurrences else []


def _wants_free(values: list[Any]) -> bool:
    return wanted_codes(values, SLOT_STATUS).admits("free")


def _practitioners(request: SearchRequest) -> list[uuid.UUID]:
    named = [*_single(request, "schedule"), *_single(request, "practitioner")]
    ids = []
    for value in named:
        assert isinstance(value, ReferenceValue)
        parsed = parse_uuid(value.id)
        # An id that is not ours names no practitioner: keep a placeholder that matches nothing.
        ids.append(parsed or uuid.UUID(int=0))
    if len(ids) > MAX_PRACTITIONERS_PER_SEARCH:
        raise InvalidSearch(f"Name at most {MAX_PRACTITIONERS_PER_SEARCH} schedules or practitioners.")
    return ids


def _window(request: SearchRequest) -> tuple[datetime, datetime]:
    lower: datetime | None = None
    upper: datetime | None = None
    for values in request.values_of("start"):
        if len(values) != 1:
            raise InvalidSearch("Give each 'start' criterion one value (e.g. start=ge2025-03-01).")
        value = values[0]
        assert isinstance(value, DateValue)
        low, high = {
            "eq": (value.start, value.end),
            "ge": (value.start, None),
            "gt": (value.end, None),
            "le": (None, value.end),
            "lt": (None, value.start),
        }[value.prefix]
        lower = max(lower, low) if lower and low else lower or low
        upper = min(upper, high) if upper and high else upper or high
    lower = lower or max(utc_now(), (upper or utc_now()) - DEFAULT_WINDOW)
    return lower, upper or lower + DEFAULT_WINDOW


def slot_resource(slot: SlotRead, code: str, specialties: list[str] | None = None) -> dict[str, Any]:
    """The FHIR Slot of one free slot (computed now: its lastUpdated is the moment it was served)."""
    resource: dict[str, Any] = {
        "resourceType": "Slot",
        "id": encode_slot_id(slot.practitioner_id, code, slot.start_at),
        "meta": {"lastUpdated": utc_now().isoformat()},
        "serviceType": [concept(SERVICE_TYPE, code)],
        "schedule": reference("Schedule", slot.practitioner_id),
        "status": "free",
        "start": instant(slot.start_at),
        "end": instant(slot.end_at),
        "comment": f"Local time at the practice: {slot.local_start.isoformat()} ({slot.time_zone})",
    }
    if specialties:
        resource["specialty"] = [concept(PRACTITIONER_SPECIALTY, specialty) for specialty in specialties]
    return resource


def encode_slot_id(practitioner_id: uuid.UUID, code: str, start: datetime) -> str:
    """`<practitioner base36>.<start minute base36>.<type code>`: at most 64 characters, FHIR's limit."""
    minute = int(start.timestamp()) // 60
    return f"{base36(practitioner_id.int)}.{base36(minute)}.{code}"


def decode_slot_id(slot_id: str) -> tuple[uuid.UUID, str, datetime] | None:
    """The practitioner, type code and start a Slot id names; None if it is not one of ours."""
    parts = slot_id.split(".", 2)
    if len(parts) != 3 or not parts[2]:
        return None
    try:
        practitioner = uuid.UUID(int=int(parts[0], 36))
        start = datetime.fromtimestamp(int(parts[1], 36) * 60, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return practitioner, parts[2], start
