"""Charting a full NEWS2 set over the API: validation, storage, audit, NEWS2, FHIR, and SpO2 scale 2."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from clinical.encounters.recorded_vitals.models import RecordedVital
from core.principal import Role
from core.sessions import transaction
from realtime.alarms.defaults import HR, SPO2
from realtime.alarms.models import News2Observation
from realtime.alarms.news2 import ClinicalRisk
from tests.builders import login, signed_in
from tests.clinical.builders import audit_trail, create_patient, create_practitioner
from tests.realtime.alarm_builders import R, client_for, evaluation_of, store_readings

API = "/api/v1"
# Every parameter scores 0 on scale 1, breathing air and alert: NEWS2 0, complete.
CALM = {
    "respiration_rate": 16,
    "spo2": 97,
    "on_oxygen": False,
    "systolic_bp": 124,
    "diastolic_bp": 78,
    "pulse": 72,
    "consciousness": "A",
    "temperature_c": 36.8,
}


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


async def _stored(sessions, patient_id) -> tuple[int, int]:
    async with sessions() as session:
        vitals = await session.scalar(
            select(func.count()).select_from(RecordedVital).where(RecordedVital.patient_id == patient_id)
        )
        observations = await session.scalar(
            select(func.count())
            .select_from(News2Observation)
            .where(News2Observation.patient_id == patient_id)
        )
    return vitals, observations


async def test_a_nurse_charts_a_full_set_and_news2_becomes_complete_and_on_schedule(http, sessions) -> None:
    patient = await create_patient(sessions)
    nurse, headers = await signed_in(http, sessions, Role.NURSE)
    before = (await http.get(f"{API}/patients/{patient.id}/news2", headers=headers)).json()
    assert before["complete"] is False
    assert before["monitoring"]["overdue"] is True and before["monitoring"]["last_full_set_at"] is None

    posted = await http.post(f"{API}/patients/{patient.id}/observation-sets", json=CALM, headers=headers)
    assert posted.status_code == 201, posted.text
    charted = posted.json()
    assert (charted["recorded_by"], charted["spo2_scale"], charted["consciousness"]) == (
        str(nurse.id),
        1,
        "A",
    )

    after = (await http.get(f"{API}/patients/{patient.id}/news2", headers=headers)).json()
    assert (after["complete"], after["total"], after["missing"]) == (True, 0, [])
    monitoring = after["monitoring"]
    assert (monitoring["frequency"], monitoring["overdue"]) == ("12-hourly", False)
    assert monitoring["last_full_set_at"] == charted["recorded_at"]
    assert await _stored(sessions, patient.id) == (6, 1)  # five NEWS2 values and the diastolic
    trail = await audit_trail(sessions, patient_id=patient.id)
    assert ("create", "observation_set", "success") in trail
    assert ("create", "recorded_vital", "success") in trail


async def test_oxygen_is_charted_with_its_device_and_flow_and_scores(http, sessions) -> None:
    patient = await create_patient(sessions)
    _, headers = await signed_in(http, sessions, Role.NURSE)
    body = CALM | {"on_oxygen": True, "oxygen_device": "nasal_cannula", "oxygen_flow_l_min": 2}
    posted = await http.post(f"{API}/patients/{patient.id}/observation-sets", json=body, headers=headers)
    assert posted.status_code == 201, posted.text
    assert (posted.json()["oxygen_device"], posted.json()["oxygen_flow_l_min"]) == ("nasal_cannula", 2)
    [listed] = (await http.get(f"{API}/patients/{patient.id}/observation-sets", headers=headers)).json()
    assert (listed["id"], listed["on_oxygen"], listed["respiration_rate"], listed["temperature_c"]) == (
        posted.json()["id"],
        True,
        16,
        36.8,
    )
    score = (await http.get(f"{API}/patients/{patient.id}/news2", headers=headers)).json()
    assert score["parameter_scores"]["air_or_oxygen"] == 2
    assert (score["total"], score["monitoring"]["frequency"]) == (2, "4-6-hourly")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"respiration_rate": 0}, "respiration_rate"),
        ({"spo2": 101}, "spo2"),
        ({"systolic_bp": 900}, "systolic_bp"),
        ({"pulse": -5}, "pulse"),
        ({"temperature_c": 98.6}, "temperature_c"),  # Fahrenheit typed into the Celsius field
        ({"consciousness": "X"}, "consciousness"),
        ({"on_oxygen": True}, "oxygen_device"),  # oxygen without its device (nor flow)
        ({"oxygen_flow_l_min": 4}, "oxygen_flow_l_min"),  # a flow while breathing air
        ({"on_oxygen": True, "oxygen_device": "simple_mask", "oxygen_flow_l_min": 90}, "oxygen_flow_l_min"),
        ({"diastolic_bp": 130}, "diastolic_bp"),  # above the systolic
    ],
)
async def test_an_impossible_value_is_refused_naming_the_field_and_nothing_is_stored(
    http, sessions, change: dict[str, Any], field: str
) -> None:
    patient = await create_patient(sessions)
    _, headers = await signed_in(http, sessions, Role.NURSE)
    response = await http.post(
        f"{API}/patients/{patient.id}/observation-sets", json=CALM | change, headers=headers
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    pointers = [error["pointer"] for error in response.json()["errors"]]
    assert f"#/body/{field}" in pointers
    assert await _stored(sessions, patient.id) == (0, 0)


async def test_a_missing_parameter_is_refused_a_full_set_is_whole(http, sessions) -> None:
    patient = await create_patient(sessions)
    _, headers = await signed_in(http, sessions, Role.NURSE)
    partial = {k: v for k, v in CALM.items() if k != "consciousness"}
    response = await http.post(f"{API}/patients/{patient.id}/observation-sets", json=partial, headers=headers)
    assert response.status_code == 422
    assert "#/body/consciousness" in [e["pointer"] for e in response.json()["errors"]]
    assert await _stored(sessions, patient.id) == (0, 0)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PATIENT])
async def test_only_nurses_and_clinicians_chart_and_refusals_are_audited(http, sessions, role) -> None:
    patient = await create_patient(sessions)
    _, headers = await signed_in(http, sessions, role)
    response = await http.post(f"{API}/patients/{patient.id}/observation-sets", json=CALM, headers=headers)
    assert response.status_code == 403
    assert await _stored(sessions, patient.id) == (0, 0)
    if role is Role.ADMIN:
        assert ("create", "observation_set", "denied") in await audit_trail(sessions, patient_id=patient.id)


async def test_the_prefill_gives_the_latest_device_values_and_the_last_charting(http, sessions) -> None:
    patient = await create_patient(sessions)
    now = datetime.now(UTC)
    device = await store_readings(
        sessions, patient.id, [R(HR, 88, now - timedelta(minutes=2)), R(HR, 91, now), R(SPO2, 95, now)]
    )
    _, headers = await signed_in(http, sessions, Role.NURSE)
    first = (await http.get(f"{API}/patients/{patient.id}/observation-sets/prefill", headers=headers)).json()
    assert first["device_values"]["pulse"]["value"] == 91
    assert first["device_values"]["pulse"]["device_id"] == device
    assert set(first["device_values"]) == {"pulse", "spo2"}
    assert (first["spo2_scale"], first["last_charted"]) == (1, None)
    body = CALM | {"on_oxygen": True, "oxygen_device": "venturi_mask", "oxygen_flow_l_min": 4}
    await http.post(f"{API}/patients/{patient.id}/observation-sets", json=body, headers=headers)
    again = (await http.get(f"{API}/patients/{patient.id}/observation-sets/prefill", headers=headers)).json()
    last = again["last_charted"]
    assert (last["on_oxygen"], last["oxygen_device"], last["oxygen_flow_l_min"], last["full_set"]) == (
        True,
        "venturi_mask",
        4,
        True,
    )


async def test_a_newer_device_value_replaces_a_charted_one_in_news2(http, sessions) -> None:
    patient = await create_patient(sessions)
    _, headers = await signed_in(http, sessions, Role.NURSE)
    taken = datetime.now(UTC) - timedelta(minutes=5)
    body = CALM | {"recorded_at": taken.isoformat()}
    assert (
        await http.post(f"{API}/patients/{patient.id}/observation-sets", json=body, headers=headers)
    ).is_success
    await store_readings(sessions, patient.id, [R(HR, 125, datetime.now(UTC))])
    score = (await http.get(f"{API}/patients/{patient.id}/news2", headers=headers)).json()
    assert (score["values"]["pulse"], score["parameter_scores"]["pulse"], score["complete"]) == (125, 2, True)


async def test_a_clinician_assigns_scale_2_with_a_reason_and_news2_scores_on_it(http, sessions) -> None:
    patient = await create_patient(sessions)
    _, nurse = await signed_in(http, sessions, Role.NURSE)
    clinician, doctor = await signed_in(http, sessions, Role.CLINICIAN)
    body = CALM | {"spo2": 89}
    await http.post(f"{API}/patients/{patient.id}/observation-sets", json=body, headers=nurse)
    on_scale_1 = (await http.get(f"{API}/patients/{patient.id}/news2", headers=nurse)).json()
    assert on_scale_1["parameter_scores"]["spo2"] == 3

    url = f"{API}/patients/{patient.id}/spo2-scale"
    reason = "COPD with hypercapnic respiratory failure; target 88-92%"
    refused = await http.put(url, json={"scale": 2, "reason": reason}, headers=nurse)
    assert refused.status_code == 403
    assert (await http.get(url, headers=nurse)).json()["scale"] == 1
    set_ = await http.put(url, json={"scale": 2, "reason": reason}, headers=doctor)
    assert set_.status_code == 200, set_.text
    read = (await http.get(url, headers=nurse)).json()
    assert (read["scale"], read["reason"], read["set_by"]) == (2, reason, str(clinician.id))

    on_scale_2 = (await http.get(f"{API}/patients/{patient.id}/news2", headers=nurse)).json()
    assert (on_scale_2["parameter_scores"]["spo2"], on_scale_2["values"]["spo2_scale"]) == (0, 2)
    trail = await audit_trail(sessions, patient_id=patient.id)
    assert ("update", "spo2_scale", "denied") in trail
    assert ("update", "spo2_scale", "success") in trail


async def test_a_scale_needs_a_reason(http, sessions) -> None:
    patient = await create_patient(sessions)
    _, doctor = await signed_in(http, sessions, Role.CLINICIAN)
    response = await http.put(
        f"{API}/patients/{patient.id}/spo2-scale", json={"scale": 2, "reason": "  "}, headers=doctor
    )
    assert response.status_code == 422
    assert "#/body/reason" in [e["pointer"] for e in response.json()["errors"]]


async def test_a_charted_set_is_a_fhir_vital_signs_observation_with_manual_method_and_performer(
    http, sessions
) -> None:
    patient = await create_patient(sessions)
    practitioner, user, password = await create_practitioner(
        sessions, role=Role.NURSE, given_name="Ada", family_name="Okafor"
    )
    headers = await login(http, user.email, password)
    await http.post(f"{API}/patients/{patient.id}/observation-sets", json=CALM, headers=headers)
    bundle = await http.get(
        "/fhir/R4/Observation",
        params={"patient": str(patient.id), "category": "vital-signs"},
        headers=headers,
    )
    assert bundle.status_code == 200, bundle.text
    resources = [entry["resource"] for entry in bundle.json()["entry"]]
    rate = next(r for r in resources if r["code"]["coding"][0]["code"] == "9279-1")
    assert rate["valueQuantity"]["value"] == 16
    assert rate["method"]["coding"][0]["code"] == "manual"
    assert rate["performer"] == [{"reference": f"Practitioner/{practitioner.id}", "display": "Ada Okafor"}]


async def test_every_charting_endpoint_needs_a_signed_in_user(http, sessions) -> None:
    patient = await create_patient(sessions)
    for method, path in [
        ("POST", f"/patients/{patient.id}/observation-sets"),
        ("GET", f"/patients/{patient.id}/observation-sets"),
        ("GET", f"/patients/{patient.id}/observation-sets/prefill"),
        ("GET", f"/patients/{patient.id}/spo2-scale"),
        ("PUT", f"/patients/{patient.id}/spo2-scale"),
    ]:
        assert (await http.request(method, f"{API}{path}")).status_code == 401, path


async def test_the_alarm_engine_scores_saturation_on_the_assigned_scale(http, sessions) -> None:
    patient = await create_patient(sessions)
    _, nurse = await signed_in(http, sessions, Role.NURSE)
    _, doctor = await signed_in(http, sessions, Role.CLINICIAN)
    await http.post(f"{API}/patients/{patient.id}/observation-sets", json=CALM | {"spo2": 89}, headers=nurse)
    now = datetime.now(UTC)
    readings = [R(SPO2, 89, now)]

    async def band() -> ClinicalRisk:
        async with transaction(sessions) as session:
            evaluation = await evaluation_of(session, patient_id=patient.id, readings=readings, now=now)
        return evaluation.news2_risk

    assert await band() is ClinicalRisk.LOW_MEDIUM  # 89 % scores 3 on scale 1
    reason = {"scale": 2, "reason": "Hypercapnic COPD, target 88-92%"}
    assert (await http.put(f"{API}/patients/{patient.id}/spo2-scale", json=reason, headers=doctor)).is_success
    assert await band() is ClinicalRisk.LOW  # and 0 on scale 2, breathing air
