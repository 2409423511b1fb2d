"""Results typed in by staff (a point-of-care test, a phoned result, a laboratory without an interface)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.lab import catalogue, references, results
from clinical.lab.hl7.values import decimal_or_none
from clinical.lab.models import LabOrder, LabResult
from clinical.lab.orders import load_order_for_change
from clinical.lab.schemas import ResultEntries, ResultEntry
from clinical.lab.terms import ValueType
from clinical.lab.units import unit_from_text
from clinical.patients import Patient
from core.db import utc_now
from core.errors import Forbidden, InvalidInput
from core.principal import Principal

_COMPARED = re.compile(r"(<=|>=|<|>|=)\s*(\S+)")


async def enter_results(
    *, session: AsyncSession, actor: Principal, order_id: uuid.UUID, entries: ResultEntries
) -> list[LabResult]:
    """Files staff-entered results; missing units, ranges and flags come from the catalogue."""
    if not actor.is_staff:
        raise Forbidden("Only staff enter lab results.")
    order = await load_order_for_change(session, order_id)
    patient = await references.patient(session, order.patient_id)
    now = utc_now()
    new = [_new_result(entry, order, patient, now) for entry in entries.results]
    plan = await results.plan_results(session, order, new)
    return await results.write_plan(session, plan, actor=actor, now=now)


def _new_result(entry: ResultEntry, order: LabOrder, patient: Patient, now: datetime) -> results.NewResult:
    value_type = entry.value_type or (
        ValueType.NUMERIC if decimal_or_none(entry.value) is not None else ValueType.STRING
    )
    number, comparator = _numeric(entry, value_type)
    item = next((i for i in order.items if i.loinc_code == entry.loinc_code), None)
    test = catalogue.find(entry.loinc_code)
    low, high, text = entry.reference_low, entry.reference_high, entry.reference_text
    if low is None and high is None and text is None and test is not None:
        observed = entry.observed_at or now
        age = references.age_in_years(patient.birth_date, observed.date())
        interval = catalogue.interval_for(test, sex=patient.gender, age_years=age)
        if interval is not None:
            low, high, text = interval.low, interval.high, interval.text
    flag = entry.abnormal_flag
    if flag is None and number is not None and comparator is None:
        flag = catalogue.flag_for(number, low=low, high=high, test=test)
    return results.NewResult(
        loinc_code=entry.loinc_code,
        value_type=value_type,
        value=entry.value,
        value_numeric=number,
        comparator=comparator,
        unit=unit_from_text(entry.unit or (item.unit if item else None)),
        reference_low=low,
        reference_high=high,
        reference_text=text,
        abnormal_flag=flag,
        status=entry.status,
        observed_at=entry.observed_at or now,
    )


def _numeric(entry: ResultEntry, value_type: ValueType) -> tuple[Decimal | None, str | None]:
    if value_type is ValueType.NUMERIC:
        number = decimal_or_none(entry.value)
        if number is None:
            raise InvalidInput(f"{entry.loinc_code}: {entry.value!r} is not a number (value_type NM).")
        return number, None
    if value_type is ValueType.STRUCTURED_NUMERIC:
        match = _COMPARED.fullmatch(entry.value)
        number = decimal_or_none(match.group(2)) if match else None
        if match is None or number is None:
            raise InvalidInput(f"{entry.loinc_code}: write a structured numeric as '<0.5' or '>=60'.")
        return number, match.group(1)
    return None, None
