"""Search as R4 defines it: the token grammar on every coded element, values outside a value set,
POST [type]/_search, names by their text, Encounter periods, and content negotiation."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.fhir.constants import (
    ADMINISTRATIVE_GENDER,
    APPOINTMENT_STATUS,
    CONDITION_CLINICAL,
    DIAGNOSTIC_REPORT_STATUS,
    ENCOUNTER_STATUS,
    MEDICATION_REQUEST_STATUS,
    MRN_SYSTEM,
    REQUEST_STATUS,
)
from core.principal import Role
from tests.fhir import builders
from tests.fhir.conftest import entry_ids, fhir_json, outcome

BASE = "/fhir/R4"
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def staff(client: httpx.AsyncClient, sessions: Sessions) -> dict[str, str]:
    return await builders.staff_headers(client, sessions, Role.CLINICIAN)


async def _ids(client: httpx.AsyncClient, headers: dict[str, str], kind: str, **params: str) -> set[str]:
    return set(entry_ids(fhir_json(await client.get(f"{BASE}/{kind}", params=params, headers=headers))))


@pytest.mark.parametrize(
    ("kind", "parameter"),
    [
        ("Patient", "gender"),
        ("Condition", "clinical-status"),
        ("AllergyIntolerance", "clinical-status"),
        ("MedicationRequest", "status"),
        ("Appointment", "status"),
        ("Encounter", "status"),
        ("ServiceRequest", "status"),
        ("DiagnosticReport", "status"),
        ("Slot", "status"),
    ],
)
async def test_a_code_outside_the_value_set_matches_nothing(
    client: httpx.AsyncClient, staff: dict[str, str], kind: str, parameter: str
) -> None:
    body = fhir_json(await client.get(f"{BASE}/{kind}", params={parameter: "zz"}, headers=staff))
    assert body["total"] == 0


async def test_token_grammar_on_every_coded_element(
    client: httpx.AsyncClient, sessions: Sessions, staff: dict[str, str]
) -> None:
    patient_id = await builders.patient_record(sessions)
    c = await builders.chart(sessions, patient_id)
    pid = str(patient_id)
    cases = [
        ("Patient", "gender", ADMINISTRATIVE_GENDER, "female", pid),
        ("Appointment", "status", APPOINTMENT_STATUS, "booked", str(c.appointment.id)),
        ("Encounter", "status", ENCOUNTER_STATUS, "finished", str(c.encounter.id)),
        ("MedicationRequest", "status", MEDICATION_REQUEST_STATUS, "active", str(c.prescription.id)),
        ("ServiceRequest", "status", REQUEST_STATUS, "completed", str(c.order.id)),
        ("DiagnosticReport", "status", DIAGNOSTIC_REPORT_STATUS, "final", str(c.order.id)),
        ("Condition", "clinical-status", CONDITION_CLINICAL, "active", str(c.condition.id)),
    ]
    for kind, name, system, code, expected in cases:
        scope = {"_id": pid} if kind == "Patient" else {"patient": pid}
        for value in (code, f"{system}|{code}", f"{system}|"):
            assert expected in await _ids(client, staff, kind, **scope, **{name: value}), (kind, value)
        for value in (f"http://example.org/other|{code}", f"|{code}", "http://example.org/other|"):
            assert expected not in await _ids(client, staff, kind, **scope, **{name: value}), (kind, value)


async def test_identifier_of_a_system_and_without_one(
    client: httpx.AsyncClient, sessions: Sessions, staff: dict[str, str]
) -> None:
    system = f"urn:oid:1.2.3.{builders.token()[2:]}"
    patient_id = await builders.patient_record(sessions)
    await builders.identifier(sessions, patient_id, system=system, value="A-1")
    assert await _ids(client, staff, "Patient", identifier=f"{system}|") == {str(patient_id)}
    assert await _ids(client, staff, "Patient", identifier="|A-1") == set()
    assert str(patient_id) in await _ids(
        client, staff, "Patient", _id=str(patient_id), identifier=f"{MRN_SYSTEM}|"
    )


async def test_slot_tokens_honour_their_systems(client: httpx.AsyncClient, staff: dict[str, str]) -> None:
    for params in ({"status": "http://example.org/other|free"}, {"service-type": "http://example.org/x|any"}):
        assert fhir_json(await client.get(f"{BASE}/Slot", params=params, headers=staff))["total"] == 0


async def test_post_search_is_form_encoded(
    client: httpx.AsyncClient, sessions: Sessions, staff: dict[str, str]
) -> None:
    family = builders.token()
    patient_id = await builders.patient_record(sessions, family=family)
    response = await client.post(
        f"{BASE}/Patient/_search",
        content=f"family={family}&gender=female",
        headers={**staff, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert entry_ids(fhir_json(response)) == [str(patient_id)]
    as_json = await client.post(f"{BASE}/Patient/_search", json={"family": family}, headers=staff)
    assert outcome(as_json, 415)["code"] == "not-supported"


async def test_name_searches_the_whole_name(
    client: httpx.AsyncClient, sessions: Sessions, staff: dict[str, str]
) -> None:
    family = builders.token()
    patient_id = await builders.patient_record(sessions, given="Olusegun", family=f"Adeyemi{family}")
    for name in (f"Olusegun Adeyemi{family}", f"olusegun  adeyemi{family[:4].lower()}", f"Adeyemi{family}"):
        assert await _ids(client, staff, "Patient", name=name) == {str(patient_id)}, name


async def test_encounter_date_follows_period_semantics(
    client: httpx.AsyncClient, sessions: Sessions, staff: dict[str, str]
) -> None:
    patient_id = await builders.patient_record(sessions)
    c = await builders.chart(sessions, patient_id)
    started = c.encounter.started_at
    assert started is not None
    pid, day = str(patient_id), started.date()
    inside = await _ids(client, staff, "Encounter", patient=pid, date=day.isoformat())
    assert inside == {str(c.encounter.id)}
    # Twenty minutes that begin within a minute-wide range do not lie within it (eq), but overlap ge.
    minute = started.replace(second=0).isoformat()
    assert await _ids(client, staff, "Encounter", patient=pid, date=minute) == set()
    assert await _ids(client, staff, "Encounter", patient=pid, date=f"ge{minute}") == {str(c.encounter.id)}
    after_start = (started + timedelta(minutes=10)).isoformat()
    assert await _ids(client, staff, "Encounter", patient=pid, date=f"ge{after_start}") == {
        str(c.encounter.id)
    }
    after_end = (started + timedelta(hours=1)).isoformat()
    assert await _ids(client, staff, "Encounter", patient=pid, date=f"ge{after_end}") == set()
    assert await _ids(client, staff, "Encounter", patient=pid, date=f"lt{after_start}") == {
        str(c.encounter.id)
    }


async def test_xml_is_not_acceptable_and_errors_stay_operation_outcomes(
    client: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    xml = {**staff, "Accept": "application/fhir+xml"}
    assert outcome(await client.get(f"{BASE}/Patient", headers=xml), 406)["code"] == "not-supported"
    outcome(await client.get(f"{BASE}/metadata", headers={"Accept": "application/xml"}), 406)
    either = {**staff, "Accept": "application/fhir+xml;q=0.9, application/fhir+json"}
    fhir_json(await client.get(f"{BASE}/Patient", params={"_count": "1"}, headers=either))
