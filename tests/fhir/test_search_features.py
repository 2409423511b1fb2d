"""Search result parameters: _include and _revinclude, _summary, _elements, _sort, _total, and
chained parameters (patient.identifier, subject.name)."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.principal import Role
from tests.fhir import builders
from tests.fhir.conftest import entry_ids, fhir_json, outcome

BASE = "/fhir/R4"
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def staff(client: httpx.AsyncClient, sessions: Sessions) -> dict[str, str]:
    return await builders.staff_headers(client, sessions, Role.CLINICIAN)


def _by_mode(bundle: dict, mode: str) -> set[tuple[str, str]]:
    return {
        (e["resource"]["resourceType"], e["resource"]["id"])
        for e in bundle.get("entry", [])
        if e["search"]["mode"] == mode
    }


async def test_includes_and_revincludes(
    client: httpx.AsyncClient, sessions: Sessions, staff: dict[str, str]
) -> None:
    patient_id = await builders.patient_record(sessions)
    c = await builders.chart(sessions, patient_id)
    pid = str(patient_id)

    async def search(kind: str, **params: str | list[str]) -> dict:
        return fhir_json(await client.get(f"{BASE}/{kind}", params=params, headers=staff))

    observations = await search("Observation", patient=pid, _include="Observation:patient")
    assert _by_mode(observations, "include") == {("Patient", pid)}
    appointments = await search(
        "Appointment", patient=pid, _include=["Appointment:patient", "Appointment:practitioner"]
    )
    assert _by_mode(appointments, "include") == {("Patient", pid), ("Practitioner", str(c.practitioner.id))}
    reports = await search(
        "DiagnosticReport", patient=pid, status="final", _include="DiagnosticReport:result"
    )
    assert _by_mode(reports, "include") == {("Observation", str(c.final_result.id))}
    requests = await search("MedicationRequest", patient=pid, _include="MedicationRequest:medication")
    [(kind, medication_id)] = _by_mode(requests, "include")
    medication = fhir_json(await client.get(f"{BASE}/Medication/{medication_id}", headers=staff))
    assert kind == "Medication" and medication["code"]["text"] == "Metformin 500 mg tablet"
    patients = await search(
        "Patient", _id=pid, _revinclude=["Observation:patient", "AllergyIntolerance:patient"]
    )
    assert _by_mode(patients, "match") == {("Patient", pid)}
    assert {("AllergyIntolerance", str(c.allergy.id)), ("Observation", str(c.vital.id))} <= _by_mode(
        patients, "include"
    )
    bad = await client.get(f"{BASE}/Observation", params={"_include": "Observation:device"}, headers=staff)
    assert "Observation:patient" in outcome(bad, 400)["diagnostics"]


async def test_a_patients_includes_stay_within_their_record(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    user, headers = await builders.patient_user(client, sessions)
    assert user.patient_id is not None
    await builders.chart(sessions, user.patient_id)
    found = fhir_json(
        await client.get(f"{BASE}/Patient", params={"_revinclude": "Condition:patient"}, headers=headers)
    )
    subjects = {
        e["resource"].get("subject", {}).get("reference")
        for e in found["entry"]
        if e["search"]["mode"] == "include"
    }
    assert subjects == {f"Patient/{user.patient_id}"}


async def test_summary_elements_total_and_sort(
    client: httpx.AsyncClient, sessions: Sessions, staff: dict[str, str]
) -> None:
    family = builders.token()
    older = await builders.patient_record(sessions, family=f"{family}B", birth_date=date(1950, 1, 1))
    younger = await builders.patient_record(sessions, family=f"{family}A", birth_date=date(2001, 1, 1))

    async def search(**params: str) -> dict:
        return fhir_json(
            await client.get(f"{BASE}/Patient", params={"family": family, **params}, headers=staff)
        )

    assert entry_ids(await search(_sort="family")) == [str(younger), str(older)]
    assert entry_ids(await search(_sort="-birthdate")) == [str(younger), str(older)]
    assert entry_ids(await search(_sort="birthdate")) == [str(older), str(younger)]
    counted = await search(_summary="count")
    assert counted["total"] == 2 and "entry" not in counted
    assert "total" not in await search(_total="none")
    summary = (await search(_summary="true"))["entry"][0]["resource"]
    assert "communication" not in summary and "contact" not in summary and summary["name"]
    assert summary["meta"]["tag"][0]["code"] == "SUBSETTED"
    elements = (await search(_elements="gender"))["entry"][0]["resource"]
    assert set(elements) == {"resourceType", "id", "meta", "gender"}
    outcome(await client.get(f"{BASE}/Patient", params={"_sort": "telecom"}, headers=staff), 400)
    outcome(await client.get(f"{BASE}/Patient", params={"_summary": "maybe"}, headers=staff), 400)


async def test_observations_sorted_by_date_across_sources(
    client: httpx.AsyncClient, sessions: Sessions, staff: dict[str, str]
) -> None:
    patient_id = await builders.patient_record(sessions)
    await builders.chart(sessions, patient_id)
    found = fhir_json(
        await client.get(
            f"{BASE}/Observation", params={"patient": str(patient_id), "_sort": "-date"}, headers=staff
        )
    )
    moments = [e["resource"]["effectiveDateTime"] for e in found["entry"]]
    assert len(moments) == 3 and moments == sorted(moments, reverse=True)


async def test_chained_patient_and_subject_parameters(
    client: httpx.AsyncClient, sessions: Sessions, staff: dict[str, str]
) -> None:
    system = f"urn:oid:1.2.{builders.token()[2:]}"
    patient_id = await builders.patient_record(sessions, family=builders.token())
    await builders.identifier(sessions, patient_id, system=system, value="X-1")
    c = await builders.chart(sessions, patient_id)
    by_identifier = fhir_json(
        await client.get(f"{BASE}/Observation", params={"patient.identifier": f"{system}|X-1"}, headers=staff)
    )
    assert str(c.vital.id) in entry_ids(by_identifier) and by_identifier["total"] == 3
    conditions = fhir_json(
        await client.get(f"{BASE}/Condition", params={"subject.identifier": f"{system}|X-1"}, headers=staff)
    )
    assert set(entry_ids(conditions)) == {str(c.condition.id), str(c.diagnosis.id)}
    nothing = fhir_json(
        await client.get(f"{BASE}/Observation", params={"patient.identifier": f"{system}|X-2"}, headers=staff)
    )
    assert nothing["total"] == 0
    outcome(await client.get(f"{BASE}/Observation", params={"patient.shoe": "1"}, headers=staff), 400)
