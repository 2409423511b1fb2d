"""The demo hospital (`ownat seed`, the embedded mode's first start), loaded into a fresh PostgreSQL
database and into a SQLite file, then used through the API by the published demo accounts."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.app import create_app
from clinical.encounters.models import Encounter, EncounterClass
from clinical.encounters.notes.models import ClinicalNote
from clinical.encounters.prescriptions.models import Prescription
from clinical.lab.models import LabOrder, LabResult
from clinical.organisation.models import Admission, Bed, Department, Practitioner, Ward
from clinical.patients.models import Patient
from clinical.scheduling.models import Appointment
from clinical.scheduling.state_machine import AppointmentStatus
from core.audit.models import AuditEvent
from core.audit.verify import verify_chain
from core.db import create_engine
from core.principal import Role
from core.sessions import create_sessionmaker
from core.settings import Settings
from devices.registry.models import Device, DeviceBinding
from ownat import migrate
from ownat.demo import DEMO_ACCOUNTS, demo_devices, seed_demo_data, simulated_devices, video_visit
from ownat.demo.billing import INSURED, INVOICED, UNCHARGED
from ownat.demo.clinic_day import IN_PERSON_TODAY
from ownat.demo.inpatient_plan import INPATIENTS
from ownat.demo.outpatient_plan import OUTPATIENTS
from ownat.demo.staff_plan import CLINICIANS, DEPARTMENTS, WARDS
from realtime.consult.models import ConsultSession
from realtime.consult.rooms import room_hours
from tests.builders import bearer, login_tokens
from tests.core.audit_support import KEYS, seal_everything

API = "/api/v1"
PLANS = INPATIENTS + OUTPATIENTS
PAST_VISITS = [visit for plan in OUTPATIENTS for visit in plan.visits]
CONSULTS = [plan.stay.consult for plan in INPATIENTS if plan.stay] + [
    v.consult for v in PAST_VISITS if v.consult
]
LAB_ORDERS = [labs for consult in CONSULTS for labs in consult.labs]


@pytest.fixture(scope="module")
async def seeded_postgres(settings: Settings, databases: Any) -> Settings:
    url = databases.create("demo_seed")
    await migrate.upgrade_async(url)
    demo = settings.model_copy(update={"database_url": url})
    assert await seed_demo_data(demo) is True
    return demo


@pytest.fixture(scope="module")
async def seeded_sqlite(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    path: Path = tmp_path_factory.mktemp("demo-sqlite") / "ownat.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    await migrate.upgrade_async(url)
    # As in the embedded mode: SQLite and the in-process bus, no Redis.
    demo = settings.model_copy(update={"database_url": url, "redis_url": None})
    assert await seed_demo_data(demo) is True
    return demo


@pytest.fixture(params=["postgres", "sqlite"])
def seeded(request: pytest.FixtureRequest) -> Settings:
    """Settings of a database holding the demo hospital, once per dialect."""
    demo: Settings = request.getfixturevalue(f"seeded_{request.param}")
    return demo


@pytest.fixture
async def db(seeded: Settings) -> AsyncIterator[AsyncSession]:
    engine = create_engine(seeded.effective_database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


@pytest.fixture
async def http(seeded: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(seeded)
    async with app.router.lifespan_context(app):
        address = f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://ownat.test") as client:
            yield client


async def _count(session: AsyncSession, model: Any, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _sign_in(http: httpx.AsyncClient, role: Role) -> tuple[dict[str, str], dict[str, Any]]:
    demo = next(a for a in DEMO_ACCOUNTS if a.role is role)
    headers = bearer((await login_tokens(http, demo.email, demo.password))["access_token"])
    me = await http.get(f"{API}/auth/me", headers=headers)
    assert me.status_code == 200, me.text
    return headers, me.json()


async def test_the_hospital_is_all_there(db: AsyncSession) -> None:
    assert await _count(db, Department) == len(DEPARTMENTS)
    assert await _count(db, Practitioner) == len(CLINICIANS)
    assert await _count(db, Ward) == len(WARDS)
    assert await _count(db, Bed) == sum(ward.beds for ward in WARDS)
    assert await _count(db, Patient) == len(PLANS) == 20
    assert await _count(db, Admission, Admission.end_at.is_(None)) == len(INPATIENTS) == 10
    by_status = dict(
        (await db.execute(select(Appointment.status, func.count()).group_by(Appointment.status))).all()
    )
    assert by_status[AppointmentStatus.COMPLETED] == sum(v.outcome == "completed" for v in PAST_VISITS)
    assert by_status[AppointmentStatus.NO_SHOW] == by_status[AppointmentStatus.CANCELLED] == 1
    booked = sum(len(plan.upcoming) for plan in OUTPATIENTS) + len(IN_PERSON_TODAY)
    assert by_status[AppointmentStatus.BOOKED] == booked
    upcoming = await _count(db, Appointment, Appointment.start_at > datetime.now(UTC))
    assert upcoming == by_status[AppointmentStatus.BOOKED]
    inpatient = await _count(db, Encounter, Encounter.encounter_class == EncounterClass.INPATIENT)
    assert inpatient == len(INPATIENTS)
    notes = await _count(db, ClinicalNote)
    assert notes == await _count(db, ClinicalNote, ClinicalNote.signed_at.is_not(None)) == len(CONSULTS)
    # One pending order is reported by the laboratory's interface (an HL7 v2 batch) as the demo loads.
    assert (
        await _count(db, LabOrder, LabOrder.status == "final")
        == sum(not labs.pending for labs in LAB_ORDERS) + 1
    )
    assert (
        await _count(db, LabOrder, LabOrder.status == "registered")
        == sum(labs.pending for labs in LAB_ORDERS) - 1
    )
    assert await _count(db, LabOrder, LabOrder.report_note.is_not(None)) == 1
    flags = set(await db.scalars(select(LabResult.abnormal_flag).distinct()))
    assert {"H", "L", "N"} <= {str(flag) for flag in flags}


async def test_each_admitted_patient_has_a_monitor_on_their_bed(db: AsyncSession) -> None:
    stays: dict[uuid.UUID | None, uuid.UUID] = {
        row.bed_id: row.patient_id for row in await db.scalars(select(Admission))
    }
    monitors = (
        await db.execute(
            select(Device.device_id, DeviceBinding.patient_id, DeviceBinding.bed_id)
            .join(DeviceBinding, DeviceBinding.device_uuid == Device.id)
            .where(DeviceBinding.end_at.is_(None), DeviceBinding.bed_id.is_not(None))
        )
    ).all()
    assert len(monitors) == len(INPATIENTS)
    assert all(stays[bed_id] == patient_id for _, patient_id, bed_id in monitors)
    assert "ward4b-bed03" in {device_id for device_id, _, _ in monitors}


async def test_demo_devices_drive_one_deteriorating_patient(db: AsyncSession) -> None:
    devices = await demo_devices(session=db)
    await db.commit()  # writes the audit entries of the registry reads
    assert len(devices) == len(INPATIENTS) + 1
    assert all(device.patient_id is not None for device in devices)
    [worse] = [device for device in devices if device.deteriorates]
    assert (worse.device_id, worse.scenario, worse.kind) == ("ward4b-bed03", "sepsis", "bedside_monitor")
    patient = await db.get(Patient, worse.patient_id)
    assert patient is not None and patient.family_name == "O'Brien"
    home = next(device for device in devices if device.kind == "pulse_oximeter")
    account = await db.get(Patient, home.patient_id)
    assert account is not None and account.email == "patient@demo.ownat.org"
    simulated = {device.device_id: device for device in simulated_devices(devices)}
    assert simulated["ward4b-bed03"].time_scale > 1 and simulated["ward4b-bed01"].time_scale == 1


async def test_the_demo_patient_sees_their_bookings_and_results(http: httpx.AsyncClient) -> None:
    headers, me = await _sign_in(http, Role.PATIENT)
    assert me["patient_id"]
    record = await http.get(f"{API}/patients/{me['patient_id']}", headers=headers)
    assert record.status_code == 200 and record.json()["birth_date"] == "1986-07-22"
    now = datetime.now(UTC)
    # The first booking takes the first free slot after seeding, which may have begun by now: the
    # module seeds once, minutes before this test runs.
    since = now - timedelta(hours=1)
    page = await http.get(
        f"{API}/appointments", params={"start_from": since.isoformat(), "status": "booked"}, headers=headers
    )
    assert page.status_code == 200, page.text
    upcoming = page.json()["items"]
    assert len(upcoming) == 3
    soon = [
        item
        for item in upcoming
        if item["mode"] == "video" and datetime.fromisoformat(item["start_at"]) < now + timedelta(hours=48)
    ]
    assert len(soon) == 2
    orders = await http.get(f"{API}/lab-orders", params={"status": "final"}, headers=headers)
    assert orders.status_code == 200 and orders.json()["items"], orders.text
    order = await http.get(f"{API}/lab-orders/{orders.json()['items'][0]['id']}", headers=headers)
    results = [item["result"] for item in order.json()["items"]]
    assert all(result is not None and result["status"] == "final" for result in results)
    assert "H" in {result["abnormal_flag"] for result in results}  # the raised TSH
    # In words for people: the everyday name, the unit as written, the range and flag explained.
    tsh = next(item["explained"] for item in order.json()["items"] if item["loinc_code"] == "3016-3")
    assert (tsh["name"], tsh["unit"], tsh["range"], tsh["flag"]) == (
        "Thyroid stimulating hormone (TSH)",
        "mIU/L",
        "0.4 to 4.0 mIU/L",
        "High",
    )
    assert (
        tsh["code_title"].startswith("LOINC 3016-3: Thyrotropin")
        and "Above the usual range" in tsh["flag_meaning"]
    )


async def test_the_demo_clinician_has_video_calls_ahead(http: httpx.AsyncClient) -> None:
    headers, me = await _sign_in(http, Role.CLINICIAN)
    practitioners = (await http.get(f"{API}/practitioners", headers=headers)).json()
    [own] = [p for p in practitioners if p["user_id"] == me["id"]]
    page = await http.get(
        f"{API}/appointments",
        # From an hour back, as above: a call booked just after seeding may have begun.
        params={
            "practitioner_id": own["id"],
            "start_from": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        },
        headers=headers,
    )
    assert page.status_code == 200, page.text
    calls = [item for item in page.json()["items"] if item["mode"] == "video"]
    assert len(calls) >= 5
    _, patient = await _sign_in(http, Role.PATIENT)
    assert patient["patient_id"] in {item["patient_id"] for item in calls}


async def test_the_demo_patient_has_an_answer_and_the_team_a_question_waiting(
    http: httpx.AsyncClient,
) -> None:
    patient, me = await _sign_in(http, Role.PATIENT)
    assert (await http.get(f"{API}/message-threads/unread-count", headers=patient)).json() == {"unread": 1}
    threads = (await http.get(f"{API}/message-threads", headers=patient)).json()["items"]
    assert {t["subject"] for t in threads} == {"Thyroid tablets and a racing heart", "Letter for my employer"}
    clinician, _ = await _sign_in(http, Role.CLINICIAN)
    [team] = [
        i for i in (await http.get(f"{API}/message-threads/inboxes", headers=clinician)).json() if i["mine"]
    ]
    assert (team["open"], team["awaiting_team"]) == (2, 1)
    admin, _ = await _sign_in(http, Role.ADMIN)
    [request] = (await http.get(f"{API}/data-requests", params={"status": "open"}, headers=admin)).json()
    assert request["kind"] == "correction" and request["patient_id"] == me["patient_id"]
    # The seeded visits were written by named clinicians: the patient sees who opened the record.
    log = (await http.get(f"{API}/patients/{me['patient_id']}/access-log", headers=patient)).json()
    assert "Dr Casey Morgan" in {visit["actor_name"] for visit in log["visits"]}


async def test_the_demo_billing_office_has_work_in_every_state(http: httpx.AsyncClient) -> None:
    headers, me = await _sign_in(http, Role.BILLING)
    assert me["role"] == "billing"
    invoices = (await http.get(f"{API}/billing/invoices", params={"limit": 100}, headers=headers)).json()
    by_status = {invoice["status"] for invoice in invoices["items"]}
    assert {"draft", "issued", "partially_paid", "paid"} <= by_status
    assert all(invoice["patient_name"] for invoice in invoices["items"])
    claims = (await http.get(f"{API}/insurance/claims", headers=headers)).json()["items"]
    assert sorted(claim["status"] for claim in claims) == sorted(INSURED.values())
    assert {claim["payer_name"] for claim in claims} == {"Northwind Health Insurance"}
    todo = (await http.get(f"{API}/billing/encounters", params={"charged": "false"}, headers=headers)).json()
    assert len(todo["items"]) == len(UNCHARGED)
    services = (await http.get(f"{API}/billing/services", headers=headers)).json()
    assert {"consultation", "procedure", "lab_test"} == {service["kind"] for service in services}
    accounts = (await http.get(f"{API}/billing/patients", headers=headers)).json()
    assert len(accounts) >= len(INVOICED)
    # The clinician's day holds in-person visits beside the video calls.
    clinician, _ = await _sign_in(http, Role.CLINICIAN)
    now = datetime.now(UTC)
    day = await http.get(
        f"{API}/appointments/day-list",
        params={
            "start": (now - timedelta(hours=1)).isoformat(),
            "end": (now + timedelta(days=2)).isoformat(),
        },
        headers=clinician,
    )
    assert day.status_code == 200, day.text
    modes = {(item["appointment"]["mode"], item["practitioner_name"]) for item in day.json()["items"]}
    assert {("in_person", "Dr Casey Morgan"), ("video", "Dr Casey Morgan")} <= modes


async def test_prescriptions_are_dated_in_their_visit_and_the_demo_patient_has_a_bill_to_pay(
    db: AsyncSession, http: httpx.AsyncClient
) -> None:
    # Signed in first: on SQLite the app's writes would wait for the test's open read.
    headers, _ = await _sign_in(http, Role.PATIENT)
    bills = (await http.get(f"{API}/billing/invoices", headers=headers)).json()["items"]
    assert [b["status"] for b in bills if b["balance_minor"] > 0] == ["partially_paid"]
    rows = (await db.execute(select(Prescription, Encounter).join(Encounter))).all()
    assert rows
    for prescription, encounter in rows:
        # As prescribed during the visit, not when the demo was loaded.
        assert encounter.started_at <= prescription.prescribed_at
        assert encounter.ended_at is None or prescription.prescribed_at <= encounter.ended_at
    assert min(p.prescribed_at for p, _ in rows) < datetime.now(UTC) - timedelta(days=30)


async def test_the_nurse_and_the_admin_see_the_wards(http: httpx.AsyncClient) -> None:
    nurse, _ = await _sign_in(http, Role.NURSE)
    wards = {ward["code"]: ward for ward in (await http.get(f"{API}/wards", headers=nurse)).json()}
    census = await http.get(f"{API}/wards/{wards['W4B']['id']}/census", headers=nurse)
    assert census.status_code == 200, census.text
    assert census.json()["occupied"] == sum(p.stay is not None and p.stay.ward == "W4B" for p in INPATIENTS)
    admin, _ = await _sign_in(http, Role.ADMIN)
    departments = await http.get(f"{API}/departments", headers=admin)
    assert {d["code"] for d in departments.json()} == {code for code, _ in DEPARTMENTS}


async def test_the_ward_has_recent_observation_rounds_and_the_nurse_charts_a_set(
    http: httpx.AsyncClient,
) -> None:
    nurse, _ = await _sign_in(http, Role.NURSE)
    patients = (await http.get(f"{API}/patients", params={"name": "Mensah"}, headers=nurse)).json()
    mensah = next(p for p in patients["items"] if p["family_name"] == "Mensah")
    scale = (await http.get(f"{API}/patients/{mensah['id']}/spo2-scale", headers=nurse)).json()
    assert (scale["scale"], "88-92%" in scale["reason"]) == (2, True)
    news2 = (await http.get(f"{API}/patients/{mensah['id']}/news2", headers=nurse)).json()
    assert news2["monitoring"]["last_full_set_at"] is not None
    # The demo nurse charts a set (the simulated monitor is not running here: every value typed).
    charted = await http.post(
        f"{API}/patients/{mensah['id']}/observation-sets",
        json={
            "respiration_rate": 20,
            "spo2": 90,
            "on_oxygen": True,
            "oxygen_device": "venturi_mask",
            "oxygen_flow_l_min": 4,
            "systolic_bp": 134,
            "pulse": 88,
            "consciousness": "A",
            "temperature_c": 37.2,
        },
        headers=nurse,
    )
    assert charted.status_code == 201, charted.text
    after = (await http.get(f"{API}/patients/{mensah['id']}/news2", headers=nurse)).json()
    assert (after["complete"], after["parameter_scores"]["spo2"], after["monitoring"]["overdue"]) == (
        True,
        0,
        False,
    )


async def test_a_second_seed_changes_nothing(seeded: Settings, db: AsyncSession) -> None:
    before = await _count(db, AuditEvent), await _count(db, Patient), await _count(db, Appointment)
    await db.rollback()  # on SQLite an open transaction would hold the write lock the seed takes
    assert await seed_demo_data(seeded) is False
    assert (await _count(db, AuditEvent), await _count(db, Patient), await _count(db, Appointment)) == before


async def test_the_audit_chain_verifies(seeded: Settings) -> None:
    engine = create_engine(seeded.effective_database_url)
    try:
        sessions = create_sessionmaker(engine)
        await seal_everything(sessions)
        async with sessions() as session:
            report = await verify_chain(session, KEYS)
    finally:
        await engine.dispose()
    assert report.ok, report.reason
    assert report.checked > 500 and report.pending == 0


async def test_a_demo_video_visit_is_open_at_any_hour_and_a_new_one_follows_an_ended_one(
    seeded: Settings, db: AsyncSession
) -> None:
    # Tomorrow at 03:00 UTC, outside every clinic's hours; rolled back at the end, so nothing stays.
    night = (datetime.now(UTC) + timedelta(days=1)).replace(hour=3, minute=0, second=0, microsecond=0)
    try:
        first = await video_visit.ensure_in(db, seeded, now=night)
        assert first is not None
        visit = await db.get(Appointment, first)
        assert visit is not None and visit.reason == video_visit.REASON
        opens_at, closes_at = room_hours(visit, seeded)
        assert opens_at <= night < closes_at - timedelta(minutes=25)
        assert await video_visit.ensure_in(db, seeded, now=night) == first  # a restart adds nothing

        # Once that call has ended, another one opens (its scheduled time still held by the first).
        db.add(
            ConsultSession(appointment_id=first, patient_id=visit.patient_id, opened_at=night, ended_at=night)
        )
        await db.flush()
        second = await video_visit.ensure_in(db, seeded, now=night + timedelta(minutes=1))
        assert second not in (None, first)
        again = await db.get(Appointment, second)
        assert again is not None and (again.end_at <= visit.start_at or again.start_at >= visit.end_at)
        assert room_hours(again, seeded)[0] <= night + timedelta(minutes=1) < room_hours(again, seeded)[1]
    finally:
        await db.rollback()
