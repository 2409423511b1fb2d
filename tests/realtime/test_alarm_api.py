"""The alarm REST API: lifecycle, thresholds, NEWS2 observations and scores, and 401/403 per role."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from core.audit.models import AuditEvent
from core.principal import Role
from core.sessions import transaction
from realtime.alarms.defaults import HR
from tests.builders import login, signed_in
from tests.clinical.builders import create_patient, create_patient_user
from tests.realtime.alarm_builders import R, client_for, evaluate_one

API = "/api/v1"


@pytest.fixture
def alarm_app(app: FastAPI) -> FastAPI:
    return app


@pytest.fixture
async def alarm_client(alarm_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(alarm_app) as http:
        yield http


async def _raised_alarm(sessions, patient_id):
    now = datetime.now(UTC)
    async with transaction(sessions) as session:
        changes = await evaluate_one(
            session,
            patient_id=patient_id,
            readings=[R(HR, 200, now - timedelta(seconds=30)), R(HR, 200, now)],
            now=now,
        )
    return changes[0].alarm


async def test_a_nurse_acknowledges_then_resolves_and_a_resolved_alarm_is_409(alarm_client, sessions) -> None:
    patient = await create_patient(sessions)
    alarm = await _raised_alarm(sessions, patient.id)
    nurse, headers = await signed_in(alarm_client, sessions, Role.NURSE)
    listed = await alarm_client.get(f"{API}/alarms", params={"patient_id": str(patient.id)}, headers=headers)
    assert listed.status_code == 200, listed.text
    assert [a["id"] for a in listed.json()] == [str(alarm.id)]
    ack = await alarm_client.post(f"{API}/alarms/{alarm.id}/acknowledge", headers=headers)
    assert ack.status_code == 200, ack.text
    body = ack.json()["alarm"]
    assert (body["status"], body["acknowledged_by"]) == ("acknowledged", str(nurse.id))
    again = await alarm_client.post(f"{API}/alarms/{alarm.id}/acknowledge", headers=headers)
    assert again.json()["alarm"]["acknowledged_at"] == body["acknowledged_at"]
    resolved = await alarm_client.post(f"{API}/alarms/{alarm.id}/resolve", headers=headers)
    assert resolved.json()["alarm"]["status"] == "resolved"
    late = await alarm_client.post(f"{API}/alarms/{alarm.id}/acknowledge", headers=headers)
    assert late.status_code == 409
    async with sessions() as session:
        actions = set(
            await session.scalars(select(AuditEvent.action).where(AuditEvent.resource_id == str(alarm.id)))
        )
    assert {"alarm.raised", "alarm.acknowledged", "alarm.resolved"} <= actions
    async with sessions() as session:
        reads = await session.scalars(
            select(AuditEvent).where(AuditEvent.patient_id == patient.id, AuditEvent.resource_type == "alarm")
        )
        assert any(e.action == "read" and e.actor_id == nurse.id for e in reads)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PATIENT])
async def test_only_nurses_and_clinicians_acknowledge(alarm_client, sessions, role) -> None:
    patient = await create_patient(sessions)
    alarm = await _raised_alarm(sessions, patient.id)
    _, headers = await signed_in(alarm_client, sessions, role)
    response = await alarm_client.post(f"{API}/alarms/{alarm.id}/acknowledge", headers=headers)
    assert response.status_code == 403
    async with sessions() as session:
        outcomes = set(
            await session.scalars(select(AuditEvent.outcome).where(AuditEvent.resource_id == str(alarm.id)))
        )
    assert "denied" in outcomes


async def test_every_alarm_endpoint_needs_a_signed_in_user(alarm_client, sessions) -> None:
    patient = await create_patient(sessions)
    alarm = await _raised_alarm(sessions, patient.id)
    for method, path in [
        ("GET", "/alarms"),
        ("POST", f"/alarms/{alarm.id}/acknowledge"),
        ("POST", f"/alarms/{alarm.id}/resolve"),
        ("GET", f"/patients/{patient.id}/alarm-thresholds"),
        ("PUT", f"/patients/{patient.id}/alarm-thresholds"),
        ("POST", f"/patients/{patient.id}/news2-observations"),
        ("GET", f"/patients/{patient.id}/news2"),
    ]:
        response = await alarm_client.request(method, f"{API}{path}")
        assert response.status_code == 401, path


async def test_a_patient_lists_only_their_own_alarms(alarm_client, sessions) -> None:
    user, patient, password = await create_patient_user(sessions)
    other = await create_patient(sessions)
    mine = await _raised_alarm(sessions, patient.id)
    await _raised_alarm(sessions, other.id)
    headers = await login(alarm_client, user.email, password)
    response = await alarm_client.get(f"{API}/alarms", headers=headers)
    assert [a["id"] for a in response.json()] == [str(mine.id)]
    denied = await alarm_client.get(f"{API}/alarms", params={"patient_id": str(other.id)}, headers=headers)
    assert denied.status_code == 403


async def test_clinicians_set_thresholds_nurses_read_them_others_are_refused(alarm_client, sessions) -> None:
    patient = await create_patient(sessions)
    url = f"{API}/patients/{patient.id}/alarm-thresholds"
    body = {"thresholds": [{"metric": "hr", "low": 45, "high": 110, "priority": "medium", "delay_s": 5}]}
    _, clinician = await signed_in(alarm_client, sessions, Role.CLINICIAN)
    put = await alarm_client.put(url, json=body, headers=clinician)
    assert put.status_code == 200, put.text
    _, nurse = await signed_in(alarm_client, sessions, Role.NURSE)
    read = (await alarm_client.get(url, headers=nurse)).json()
    hr = next(t for t in read["thresholds"] if t["metric"] == HR)
    assert (hr["low"], hr["high"], hr["source"], read["age_group"]) == (45, 110, "override", "adult")
    assert (await alarm_client.put(url, json=body, headers=nurse)).status_code == 403
    for role in (Role.ADMIN, Role.PATIENT):
        _, headers = await signed_in(alarm_client, sessions, role)
        assert (await alarm_client.put(url, json=body, headers=headers)).status_code == 403
        assert (await alarm_client.get(url, headers=headers)).status_code == 403


async def test_a_nurse_charts_an_observation_and_reads_the_news2_breakdown(alarm_client, sessions) -> None:
    patient = await create_patient(sessions)
    _, nurse = await signed_in(alarm_client, sessions, Role.NURSE)
    posted = await alarm_client.post(
        f"{API}/patients/{patient.id}/news2-observations",
        json={"consciousness": "C", "on_oxygen": False},
        headers=nurse,
    )
    assert posted.status_code == 201, posted.text
    score = (await alarm_client.get(f"{API}/patients/{patient.id}/news2", headers=nurse)).json()
    assert (score["total"], score["risk"], score["complete"]) == (3, "low-medium", False)
    assert score["parameter_scores"] == {"air_or_oxygen": 0, "consciousness": 3}
    assert set(score["missing"]) == {"respiration_rate", "spo2", "systolic_bp", "pulse", "temperature"}
    for role in (Role.ADMIN, Role.PATIENT):
        _, headers = await signed_in(alarm_client, sessions, role)
        refused = await alarm_client.post(
            f"{API}/patients/{patient.id}/news2-observations",
            json={"consciousness": "A", "on_oxygen": False},
            headers=headers,
        )
        assert refused.status_code == 403


async def test_acknowledging_and_resolving_over_rest_are_published_to_every_dashboard(
    alarm_client, sessions, resources
) -> None:
    patient = await create_patient(sessions)
    alarm = await _raised_alarm(sessions, patient.id)
    _, headers = await signed_in(alarm_client, sessions, Role.NURSE)
    async with resources.bus.subscribe(channels=[f"alarms.patient.{patient.id}"]) as feed:
        await alarm_client.post(f"{API}/alarms/{alarm.id}/acknowledge", headers=headers)
        await alarm_client.post(f"{API}/alarms/{alarm.id}/resolve", headers=headers)
        heard = []
        async with asyncio.timeout(30):
            async for message in feed:
                heard.append((message.data["change"], message.data["alarm"]["status"]))
                if len(heard) == 2:
                    break
    assert heard == [("acknowledged", "acknowledged"), ("resolved", "resolved")]
