"""Appointment, Encounter, Condition, AllergyIntolerance, MedicationRequest, ServiceRequest,
DiagnosticReport and Observation: read, search, and a patient's view limited to their own record."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.fhir.constants import ICD10, LOINC
from core.principal import Role
from tests.fhir import builders
from tests.fhir.conftest import entry_ids, fhir_json, outcome

BASE = "/fhir/R4"


@pytest.fixture
async def staff(client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    return await builders.staff_headers(client, sessions, Role.CLINICIAN)


async def _search(client: httpx.AsyncClient, headers: dict[str, str], kind: str, **params: str) -> dict:
    return fhir_json(await client.get(f"{BASE}/{kind}", params=params, headers=headers))


async def test_every_resource_of_a_chart_reads_back(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], staff: dict[str, str]
) -> None:
    patient_id = await builders.patient_record(sessions)
    c = await builders.chart(sessions, patient_id)
    reads = {
        "Appointment": c.appointment.id,
        "Encounter": c.encounter.id,
        "Condition": c.condition.id,
        "AllergyIntolerance": c.allergy.id,
        "MedicationRequest": c.prescription.id,
        "ServiceRequest": c.order.id,
        "DiagnosticReport": c.order.id,
        "Practitioner": c.practitioner.id,
        "Schedule": c.practitioner.id,
    }
    for kind, resource_id in reads.items():
        body = fhir_json(await client.get(f"{BASE}/{kind}/{resource_id}", headers=staff))
        assert (body["resourceType"], body["id"]) == (kind, str(resource_id))
    for observation in (c.final_result.id, c.vital.id, c.preliminary_result.id):
        fhir_json(await client.get(f"{BASE}/Observation/{observation}", headers=staff))
    diagnosis = fhir_json(await client.get(f"{BASE}/Condition/{c.diagnosis.id}", headers=staff))
    assert diagnosis["category"][0]["coding"][0]["code"] == "encounter-diagnosis"
    assert diagnosis["encounter"]["reference"] == f"Encounter/{c.encounter.id}"


async def test_appointments_by_patient_practitioner_date_and_status(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], staff: dict[str, str]
) -> None:
    patient_id = await builders.patient_record(sessions)
    c = await builders.chart(sessions, patient_id)
    day = c.appointment.start_at.date().isoformat()
    found = await _search(client, staff, "Appointment", patient=f"Patient/{patient_id}")
    assert entry_ids(found) == [str(c.appointment.id)]
    appointment = found["entry"][0]["resource"]
    assert appointment["status"] == "booked"
    assert {p["actor"]["reference"] for p in appointment["participant"]} == {
        f"Patient/{patient_id}",
        f"Practitioner/{c.practitioner.id}",
    }
    assert appointment["serviceType"][0]["coding"][0]["code"] == c.kind.code
    by_practitioner = await _search(client, staff, "Appointment", practitioner=str(c.practitioner.id))
    assert entry_ids(by_practitioner) == [str(c.appointment.id)]
    assert (await _search(client, staff, "Appointment", patient=str(patient_id), date=day))["total"] == 1
    assert (await _search(client, staff, "Appointment", patient=str(patient_id), date=f"gt{day}"))[
        "total"
    ] == 0
    assert (await _search(client, staff, "Appointment", patient=str(patient_id), date=f"ge{day}"))[
        "total"
    ] == 1
    both = {"patient": str(patient_id), "date": [f"ge{day}", f"le{day}"]}
    assert fhir_json(await client.get(f"{BASE}/Appointment", params=both, headers=staff))["total"] == 1
    assert (await _search(client, staff, "Appointment", patient=str(patient_id), status="booked,arrived"))[
        "total"
    ] == 1
    assert (await _search(client, staff, "Appointment", patient=str(patient_id), status="cancelled"))[
        "total"
    ] == 0


async def test_encounters_conditions_allergies_and_prescriptions_by_patient(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], staff: dict[str, str]
) -> None:
    patient_id = await builders.patient_record(sessions)
    c = await builders.chart(sessions, patient_id)
    pid = str(patient_id)
    encounters = await _search(client, staff, "Encounter", patient=pid, status="finished")
    assert entry_ids(encounters) == [str(c.encounter.id)]
    encounter = encounters["entry"][0]["resource"]
    assert encounter["class"]["code"] == "AMB" and encounter["length"]["value"] == 20
    day = c.encounter.started_at.date().isoformat()  # type: ignore[union-attr]
    assert (await _search(client, staff, "Encounter", patient=pid, date=day))["total"] == 1
    assert (await _search(client, staff, "Encounter", patient=pid, status="in-progress"))["total"] == 0

    conditions = await _search(client, staff, "Condition", patient=pid)
    assert set(entry_ids(conditions)) == {str(c.condition.id), str(c.diagnosis.id)}
    assert entry_ids(await _search(client, staff, "Condition", patient=pid, code=f"{ICD10}|E11.9")) == [
        str(c.condition.id)
    ]
    assert entry_ids(await _search(client, staff, "Condition", patient=pid, code="I20.9")) == [
        str(c.diagnosis.id)
    ]
    active = await _search(client, staff, "Condition", patient=pid, **{"clinical-status": "active"})
    assert entry_ids(active) == [str(c.condition.id)]

    allergies = await _search(client, staff, "AllergyIntolerance", patient=pid)
    assert entry_ids(allergies) == [str(c.allergy.id)]
    allergy = allergies["entry"][0]["resource"]
    assert allergy["criticality"] == "high" and allergy["reaction"][0]["manifestation"][0]["text"] == "Hives"

    requests = await _search(client, staff, "MedicationRequest", patient=pid, status="active")
    assert entry_ids(requests) == [str(c.prescription.id)]
    dosage = requests["entry"][0]["resource"]["dosageInstruction"][0]
    assert dosage["timing"]["repeat"]["frequency"] == 2 and dosage["route"]["coding"][0]["code"] == "26643006"
    assert (await _search(client, staff, "MedicationRequest", patient=pid, status="stopped"))["total"] == 0


async def test_lab_orders_reports_and_observations(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], staff: dict[str, str]
) -> None:
    patient_id = await builders.patient_record(sessions)
    c = await builders.chart(sessions, patient_id)
    pid = str(patient_id)
    orders = await _search(client, staff, "ServiceRequest", patient=pid)
    assert set(entry_ids(orders)) == {str(c.order.id), str(c.preliminary_order.id)}
    assert entry_ids(await _search(client, staff, "ServiceRequest", patient=pid, status="completed")) == [
        str(c.order.id)
    ]
    assert entry_ids(await _search(client, staff, "ServiceRequest", patient=pid, status="active")) == [
        str(c.preliminary_order.id)
    ]
    reports = await _search(client, staff, "DiagnosticReport", patient=pid, status="final")
    assert entry_ids(reports) == [str(c.order.id)]
    assert reports["entry"][0]["resource"]["result"] == [{"reference": f"Observation/{c.final_result.id}"}]

    lab = await _search(client, staff, "Observation", patient=pid, category="laboratory")
    assert set(entry_ids(lab)) == {str(c.final_result.id), str(c.preliminary_result.id)}
    result = next(e["resource"] for e in lab["entry"] if e["resource"]["id"] == str(c.final_result.id))
    assert result["valueQuantity"] == {
        "value": 130,
        "unit": "mg/dL",
        "system": "http://unitsofmeasure.org",
        "code": "mg/dL",
    }
    assert result["interpretation"][0]["coding"][0]["code"] == "H"
    assert result["referenceRange"][0]["low"]["value"] == 70

    vitals = await _search(client, staff, "Observation", patient=pid, category="vital-signs")
    assert entry_ids(vitals) == [str(c.vital.id)]
    vital = vitals["entry"][0]["resource"]
    assert vital["code"]["coding"][0] == {"system": LOINC, "code": "8867-4", "display": "Heart rate"}
    assert vital["meta"]["profile"] == ["http://hl7.org/fhir/StructureDefinition/vitalsigns"]
    assert vital["meta"]["lastUpdated"]
    by_code = await _search(client, staff, "Observation", patient=pid, code=f"{LOINC}|2345-7")
    assert by_code["total"] == 2
    everything = await _search(client, staff, "Observation", patient=pid)
    assert everything["total"] == 3
    day = c.vital.measured_at.date().isoformat()
    assert entry_ids(
        await _search(client, staff, "Observation", patient=pid, category="vital-signs", date=day)
    ) == [str(c.vital.id)]


async def test_composite_paging_crosses_sources(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], staff: dict[str, str]
) -> None:
    patient_id = await builders.patient_record(sessions)
    await builders.chart(sessions, patient_id)
    seen: list[str] = []
    for offset in range(3):
        page = await _search(
            client, staff, "Observation", patient=str(patient_id), _count="1", _offset=str(offset)
        )
        assert page["total"] == 3
        seen += entry_ids(page)
    assert len(set(seen)) == 3


async def test_a_patient_sees_only_their_own_and_only_released_results(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, headers = await builders.patient_user(client, sessions)
    assert user.patient_id is not None
    mine = await builders.chart(sessions, user.patient_id)
    other = await builders.chart(sessions, await builders.patient_record(sessions))

    lab = await _search(client, headers, "Observation", category="laboratory")
    assert entry_ids(lab) == [str(mine.final_result.id)]
    reports = await _search(client, headers, "DiagnosticReport")
    assert entry_ids(reports) == [str(mine.order.id)]
    outcome(await client.get(f"{BASE}/DiagnosticReport/{mine.preliminary_order.id}", headers=headers), 404)
    outcome(await client.get(f"{BASE}/Observation/{mine.preliminary_result.id}", headers=headers), 404)

    # Asking for another patient's data by search yields nothing; by id it is refused.
    for kind in (
        "Appointment",
        "Encounter",
        "Condition",
        "MedicationRequest",
        "Observation",
        "ServiceRequest",
    ):
        found = await _search(client, headers, kind, patient=str(other.patient_id))
        assert found["total"] == 0, kind
        assert (await _search(client, headers, kind))["total"] >= 1, kind
    refused = {
        "Appointment": other.appointment.id,
        "Encounter": other.encounter.id,
        "Condition": other.condition.id,
        "AllergyIntolerance": other.allergy.id,
        "MedicationRequest": other.prescription.id,
        "ServiceRequest": other.order.id,
        "DiagnosticReport": other.order.id,
        "Observation": other.vital.id,
    }
    for kind, resource_id in refused.items():
        assert (
            outcome(await client.get(f"{BASE}/{kind}/{resource_id}", headers=headers), 403)["code"]
            == "forbidden"
        )


async def test_device_readings_are_vital_sign_observations_of_the_patient(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, headers = await builders.patient_user(client, sessions)
    assert user.patient_id is not None
    device = await builders.device_readings(sessions, user.patient_id, count=2)
    await builders.device_readings(sessions, None)  # an unbound device: nobody's Observation
    staff = await builders.staff_headers(client, sessions, Role.NURSE)

    found = await _search(client, staff, "Observation", patient=str(user.patient_id), category="vital-signs")
    assert found["total"] == 2
    resource = found["entry"][0]["resource"]
    assert resource["device"]["display"] == device and resource["valueQuantity"]["value"] == 71
    assert resource["subject"]["reference"] == f"Patient/{user.patient_id}"
    assert (await _search(client, staff, "Observation", patient=str(user.patient_id), code="8310-5"))[
        "total"
    ] == 0
    assert (await _search(client, staff, "Observation", patient=str(user.patient_id), category="laboratory"))[
        "total"
    ] == 0
    mine = await _search(client, headers, "Observation")
    assert set(entry_ids(mine)) == set(entry_ids(found))
    everything = fhir_json(await client.get(f"{BASE}/Patient/{user.patient_id}/$everything", headers=headers))
    assert {e["resource"]["id"] for e in everything["entry"]} >= set(entry_ids(found))
    # Every Observation listed reads back by id, and by `_id`; another patient's is refused.
    for observation_id in entry_ids(found):
        read = fhir_json(await client.get(f"{BASE}/Observation/{observation_id}", headers=headers))
        assert read["id"] == observation_id and read["meta"]["lastUpdated"]
        vread = await client.get(f"{BASE}/Observation/{observation_id}/_history/1", headers=headers)
        assert fhir_json(vread)["id"] == observation_id
        by_id = await _search(client, staff, "Observation", patient=str(user.patient_id), _id=observation_id)
        assert entry_ids(by_id) == [observation_id]
    outcome(await client.get(f"{BASE}/Observation/{resource['id'][:-1]}x", headers=staff), 404)
    _, other = await builders.patient_user(client, sessions)
    outcome(await client.get(f"{BASE}/Observation/{resource['id']}", headers=other), 403)
