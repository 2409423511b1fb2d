"""Prescriptions: structured dose, route and frequency; status changes; who prescribes and who reads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit.models import AuditEvent
from core.principal import Role
from core.settings import Settings
from tests.clinical.encounter_builders import API, People, Staff, walk_in

Sessions = async_sessionmaker[AsyncSession]


def amoxicillin(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "medication": {"name": "Amoxicillin 500 mg capsule", "code": "J01CA04"},
        "dose": {"quantity": "500", "unit": "mg"},
        "route": "oral",
        "frequency": {"count": 3, "period": 1, "period_unit": "d"},
        "duration_days": 7,
        "instructions": "Take with water.",
    }
    return {**body, **changes}


@pytest.fixture
def people(sessions: Sessions, settings: Settings) -> People:
    return People(sessions, settings)


async def _prescribe(
    client: httpx.AsyncClient, clinician: Staff, encounter_id: object, **changes: object
) -> httpx.Response:
    return await client.post(
        f"{API}/encounters/{encounter_id}/prescriptions",
        json=amoxicillin(**changes),
        headers=clinician.headers,
    )


async def test_a_clinician_prescribes_in_an_encounter(
    client: httpx.AsyncClient, sessions: Sessions, people: People
) -> None:
    clinician = await people.staff()
    encounter = await walk_in(client, clinician, await people.patient_record())
    response = await _prescribe(client, clinician, encounter["id"], dose={"quantity": "2.5", "unit": "mL"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["dose"] == {"quantity": "2.5", "unit": "mL"}  # exact decimal, not a float
    assert body["frequency"] == {"count": 3, "period": 1, "period_unit": "d", "as_needed": False}
    assert body["medication"]["code"] == "J01CA04"
    assert body["status"] == "active"
    assert body["prescriber_id"] == str(clinician.practitioner_id)
    assert body["patient_id"] == encounter["patient_id"]
    whole = await _prescribe(client, clinician, encounter["id"])
    assert whole.json()["dose"]["quantity"] == "500"
    async with sessions() as session:
        entry = await session.scalar(select(AuditEvent).where(AuditEvent.resource_id == body["id"]))
    assert entry is not None and entry.action == "create" and str(entry.patient_id) == encounter["patient_id"]


async def test_a_prescription_is_dated_when_prescribed_within_its_encounter(
    client: httpx.AsyncClient, people: People
) -> None:
    clinician = await people.staff()
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    encounter = await walk_in(
        client, clinician, await people.patient_record(), started_at=started.isoformat()
    )
    # A visit charted afterwards: dated as prescribed during it, not when typed in.
    during = started + timedelta(minutes=20)
    charted = await _prescribe(client, clinician, encounter["id"], prescribed_at=during.isoformat())
    assert charted.status_code == 201, charted.text
    assert datetime.fromisoformat(charted.json()["prescribed_at"]) == during
    assert datetime.fromisoformat(charted.json()["created_at"]) > during
    now = (await _prescribe(client, clinician, encounter["id"])).json()
    assert abs(datetime.fromisoformat(now["prescribed_at"]) - datetime.now(UTC)) < timedelta(minutes=1)
    for refused in (started - timedelta(minutes=1), datetime.now(UTC) + timedelta(hours=1)):
        answer = await _prescribe(client, clinician, encounter["id"], prescribed_at=refused.isoformat())
        assert answer.status_code == 422, answer.text


async def test_status_changes_once_with_a_reason(client: httpx.AsyncClient, people: People) -> None:
    clinician = await people.staff()
    encounter = await walk_in(client, clinician, await people.patient_record())
    prescription = (await _prescribe(client, clinician, encounter["id"])).json()
    url = f"{API}/prescriptions/{prescription['id']}/status"
    assert (await client.post(url, json={"status": "stopped"}, headers=clinician.headers)).status_code == 422
    assert (await client.post(url, json={"status": "active"}, headers=clinician.headers)).status_code == 422
    stopped = await client.post(url, json={"status": "stopped", "reason": "Rash"}, headers=clinician.headers)
    assert stopped.status_code == 200
    assert stopped.json()["status"] == "stopped" and stopped.json()["status_reason"] == "Rash"
    assert stopped.json()["status_changed_by"] == str(clinician.user.id)
    again = await client.post(url, json={"status": "completed"}, headers=clinician.headers)
    assert again.status_code == 409
    assert again.json()["prescription_status"] == "stopped"


async def test_completing_needs_no_reason(client: httpx.AsyncClient, people: People) -> None:
    clinician = await people.staff()
    encounter = await walk_in(client, clinician, await people.patient_record())
    prescription = (await _prescribe(client, clinician, encounter["id"])).json()
    done = await client.post(
        f"{API}/prescriptions/{prescription['id']}/status",
        json={"status": "completed"},
        headers=clinician.headers,
    )
    assert done.status_code == 200 and done.json()["status"] == "completed"


@pytest.mark.parametrize(
    "changes",
    [
        {"route": "telepathic"},
        {"dose": {"quantity": "0", "unit": "mg"}},
        {"dose": {"quantity": "0.00001", "unit": "mg"}},
        {"dose": {"quantity": "5", "unit": "spoonful"}},
        {"frequency": {"count": 0}},
        {"duration_days": 0},
        {"medication": {"name": ""}},
        {"surprise": 1},
    ],
)
async def test_bad_prescriptions_are_422(
    client: httpx.AsyncClient, people: People, changes: dict[str, object]
) -> None:
    clinician = await people.staff()
    encounter = await walk_in(client, clinician, await people.patient_record())
    response = await _prescribe(client, clinician, encounter["id"], **changes)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    listed = await client.get(f"{API}/encounters/{encounter['id']}/prescriptions", headers=clinician.headers)
    assert listed.json()["items"] == []


async def test_no_prescribing_outside_an_encounter_in_progress(
    client: httpx.AsyncClient, people: People
) -> None:
    clinician = await people.staff()
    encounter = await walk_in(client, clinician, await people.patient_record())
    await client.post(f"{API}/encounters/{encounter['id']}/finish", headers=clinician.headers)
    response = await _prescribe(client, clinician, encounter["id"])
    assert response.status_code == 409
    assert (await _prescribe(client, clinician, uuid.uuid4())).status_code == 404


async def test_nurses_and_the_patient_read_others_do_not(client: httpx.AsyncClient, people: People) -> None:
    clinician, nurse = await people.staff(), await people.staff(Role.NURSE)
    me, other = await people.patient(), await people.patient()
    encounter = await walk_in(client, clinician, me.patient_id)
    prescription = (await _prescribe(client, clinician, encounter["id"])).json()
    url = f"{API}/prescriptions/{prescription['id']}"

    for headers in (nurse.headers, me.headers):
        assert (await client.get(url, headers=headers)).status_code == 200
    mine = await client.get(f"{API}/prescriptions", headers=me.headers)
    assert [p["id"] for p in mine.json()["items"]] == [prescription["id"]]
    by_nurse = await client.get(
        f"{API}/prescriptions",
        params={"patient_id": str(me.patient_id), "status": "active"},
        headers=nurse.headers,
    )
    assert [p["id"] for p in by_nurse.json()["items"]] == [prescription["id"]]
    assert (await client.get(f"{API}/prescriptions", headers=nurse.headers)).status_code == 422  # whose?

    assert (await client.get(url, headers=other.headers)).status_code == 403
    theirs = await client.get(
        f"{API}/prescriptions", params={"patient_id": str(me.patient_id)}, headers=other.headers
    )
    assert theirs.status_code == 403
    per_encounter = await client.get(
        f"{API}/encounters/{encounter['id']}/prescriptions", headers=other.headers
    )
    assert per_encounter.status_code == 403


@pytest.mark.parametrize("role", [Role.NURSE, Role.ADMIN, Role.PATIENT])
async def test_only_clinicians_prescribe_and_change_status(
    client: httpx.AsyncClient, people: People, role: Role
) -> None:
    clinician = await people.staff()
    account = await people.patient()
    encounter = await walk_in(client, clinician, account.patient_id)
    prescription = (await _prescribe(client, clinician, encounter["id"])).json()
    headers = account.headers if role is Role.PATIENT else await people.headers_of(role)
    create = await client.post(
        f"{API}/encounters/{encounter['id']}/prescriptions", json=amoxicillin(), headers=headers
    )
    assert create.status_code == 403
    change = await client.post(
        f"{API}/prescriptions/{prescription['id']}/status", json={"status": "completed"}, headers=headers
    )
    assert change.status_code == 403


async def test_prescriptions_need_a_token(client: httpx.AsyncClient) -> None:
    some = uuid.uuid4()
    for method, url in [
        ("POST", f"{API}/encounters/{some}/prescriptions"),
        ("GET", f"{API}/encounters/{some}/prescriptions"),
        ("GET", f"{API}/prescriptions"),
        ("GET", f"{API}/prescriptions/{some}"),
        ("POST", f"{API}/prescriptions/{some}/status"),
    ]:
        assert (await client.request(method, url, json={})).status_code == 401, url


async def test_a_matching_allergy_is_a_warning_until_the_prescriber_acknowledges_it(
    client: httpx.AsyncClient, sessions: Sessions, people: People
) -> None:
    clinician = await people.staff()
    patient_id = await people.patient_record()
    allergies = f"{API}/patients/{patient_id}/allergies"
    penicillin = await client.post(
        allergies,
        json={"substance_text": "Penicillin", "criticality": "high", "reaction": "Anaphylaxis"},
        headers=clinician.headers,
    )
    peanut = await client.post(allergies, json={"substance_text": "Peanut"}, headers=clinician.headers)
    assert penicillin.status_code == peanut.status_code == 201
    encounter = await walk_in(client, clinician, patient_id)

    # Amoxicillin is a penicillin: refused with the allergy named, nothing prescribed.
    warned = await _prescribe(client, clinician, encounter["id"])
    assert warned.status_code == 409, warned.text
    problem = warned.json()
    assert problem["code"] == "allergy-warning"
    assert "Penicillin (high criticality: Anaphylaxis), as both are penicillins" in problem["detail"]
    assert [a["id"] for a in problem["allergies"]] == [penicillin.json()["id"]]
    listed = await client.get(f"{API}/encounters/{encounter['id']}/prescriptions", headers=clinician.headers)
    assert listed.json()["items"] == []
    # Acknowledging another allergy is not acknowledging this one.
    wrong = await _prescribe(
        client, clinician, encounter["id"], acknowledged_allergy_ids=[peanut.json()["id"]]
    )
    assert wrong.status_code == 409

    confirmed = await _prescribe(
        client, clinician, encounter["id"], acknowledged_allergy_ids=[penicillin.json()["id"]]
    )
    assert confirmed.status_code == 201, confirmed.text
    # A drug of no matching class needs no acknowledgement.
    other = await _prescribe(client, clinician, encounter["id"], medication={"name": "Clarithromycin 500 mg"})
    assert other.status_code == 201
    async with sessions() as session:
        entries = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.patient_id == patient_id, AuditEvent.resource_type == "prescription")
                .where(AuditEvent.action == "create")
                .order_by(AuditEvent.seq)
            )
        ).all()
    # The warned attempts are on the record as failures; the override names the allergy it overrode.
    assert [(e.outcome, e.detail.get("error")) for e in entries[:2]] == [("failure", "allergy-warning")] * 2
    assert entries[2].outcome == "success"
    assert entries[2].detail["allergies_overridden"] == [penicillin.json()["id"]]
    assert "allergies_overridden" not in entries[3].detail


def test_allergy_matching_by_substance_and_class_without_false_alarms() -> None:
    from clinical.encounters.prescriptions.allergy_check import match_allergies
    from clinical.patients.models import Allergy
    from clinical.patients.terms import AllergyStatus

    def reasons(substance: str, medication: str, status: AllergyStatus = AllergyStatus.ACTIVE) -> list[str]:
        allergy = Allergy(substance_text=substance, status=status)
        return [m.reason for m in match_allergies([allergy], medication, None)]

    assert reasons("Codeine", "Codeine phosphate 30 mg tablet") == ["same substance"]
    assert reasons("Ibuprofen", "Naproxen 500 mg") == ["NSAIDs"]
    assert reasons("Sulfa drugs", "Co-trimoxazole 960 mg") == ["sulfonamide antibiotics"]
    assert reasons("Opioids", "Tramadol 50 mg") == ["opioids"]
    # Not a sulfonamide, not cross-reactive, not active, not a drug.
    assert reasons("Sulfonamide antibiotics", "Ferrous sulfate 200 mg") == []
    assert reasons("Codeine", "Morphine sulfate 10 mg") == []
    assert reasons("Penicillin", "Amoxicillin", AllergyStatus.RESOLVED) == []
    assert reasons("Peanut", "Amoxicillin") == []
