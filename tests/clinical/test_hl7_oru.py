"""HL7 v2 ORU^R01 over HTTP: filing, ACK codes, the inbox, idempotency, resolution, access."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.lab.hl7.ack import AckOutcome, build_ack
from clinical.lab.hl7.errors import AckCode, ErrorCode, Location
from clinical.lab.hl7.message import parse_message, read_header
from clinical.lab.hl7.values import parse_dtm, parse_reference_range
from clinical.lab.terms import AbnormalFlag, MessageStatus, OrderStatus, ResultStatus
from core.principal import Role
from core.resources import Resources
from ownat import migrate
from tests.builders import http_client, signed_in
from tests.clinical.builders import create_patient
from tests.clinical.lab_builders import (
    API,
    GLUCOSE,
    POTASSIUM,
    Clinician,
    Obx,
    Oru,
    ack_segments,
    audit_entries,
    clinician,
    lab_order,
    messages_with_control_id,
    messages_with_raw,
    oru_for,
    post_oru,
    results_of,
    staff_headers,
)
from tests.conftest import AppFactory

Sessions = async_sessionmaker[AsyncSession]


# Signing in costs two argon2 hashes; the module shares its interface accounts (each test still
# creates its own patients, orders and messages).
@pytest.fixture(scope="module")
async def admin(app: FastAPI, resources: Resources) -> dict[str, str]:
    return await staff_headers(app, resources.sessions, Role.ADMIN)


@pytest.fixture(scope="module")
async def doctor(app: FastAPI, resources: Resources) -> Clinician:
    async with http_client(app) as client:
        return await clinician(client, resources.sessions)


def glucose(value: str = "180", **fields: str) -> Obx:
    return Obx(GLUCOSE, value, flag=fields.pop("flag", "H"), **fields)


def potassium(value: str = "4.2", **fields: str) -> Obx:
    defaults = {"unit": "mmol/L", "reference_range": "3.5-5.1", "flag": "N"}
    return Obx(POTASSIUM, value, **{**defaults, **fields})


async def test_oru_is_filed_and_acknowledged_aa(
    client: httpx.AsyncClient, sessions: Sessions, admin: dict[str, str], doctor: Clinician
) -> None:
    patient = await create_patient(sessions)
    order = await lab_order(sessions, patient_id=patient.id, by=doctor)
    message = oru_for(order, patient, glucose("180.0"), potassium("4.2"))

    response = await post_oru(client, admin, message.text())

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("x-application/hl7-v2+er7")
    ack = ack_segments(response.text)
    assert ack["MSA"][1:3] == ["AA", message.control_id]
    # The ACK goes back to the sender: sender and receiver swapped.
    assert ack["MSH"][2:6] == ["OWNAT", "HOSPITAL", "LABSYS", "CITYLAB"]
    assert ack["MSH"][8] == "ACK^R01^ACK" and ack["MSH"][11] == "2.5.1"
    assert "ERR" not in ack

    stored = {r.loinc_code: r for r in await results_of(sessions, order.id)}
    assert stored[GLUCOSE].value == "180.0" and stored[GLUCOSE].value_numeric == Decimal("180.0")
    assert stored[GLUCOSE].abnormal_flag is AbnormalFlag.HIGH
    assert (stored[GLUCOSE].reference_low, stored[GLUCOSE].reference_high) == (Decimal("70"), Decimal("99"))
    assert stored[POTASSIUM].unit == "mmol/L" and stored[POTASSIUM].abnormal_flag is AbnormalFlag.NORMAL
    assert all(r.status is ResultStatus.FINAL for r in stored.values())
    assert stored[GLUCOSE].observed_at == datetime(2025, 3, 1, 8, 30, tzinfo=UTC)  # OBX-14

    detail = (await client.get(f"{API}/lab-orders/{order.id}", headers=doctor.headers)).json()
    assert detail["status"] == OrderStatus.FINAL.value and detail["filler_order_number"] == "F12345"
    [inbox_row] = await messages_with_control_id(sessions, message.control_id)
    assert inbox_row.status is MessageStatus.ACCEPTED and inbox_row.order_id == order.id
    receipts = await audit_entries(sessions, resource_type="hl7_message", resource_id=inbox_row.id)
    assert [(e.action, e.patient_id, e.outcome) for e in receipts] == [("receive", patient.id, "success")]
    filed = await audit_entries(sessions, resource_type="lab_result", resource_id=stored[GLUCOSE].id)
    assert [(e.action, e.patient_id) for e in filed] == [("create", patient.id)]


async def test_preliminary_then_final_moves_the_order_and_supersedes(
    client: httpx.AsyncClient, sessions: Sessions, admin: dict[str, str], doctor: Clinician
) -> None:
    patient = await create_patient(sessions)
    order = await lab_order(sessions, patient_id=patient.id, by=doctor)
    headers = doctor.headers

    first = await post_oru(client, headers, oru_for(order, patient, glucose("150", status="P")).text())
    assert ack_segments(first.text)["MSA"][1] == "AA"
    detail = (await client.get(f"{API}/lab-orders/{order.id}", headers=doctor.headers)).json()
    assert detail["status"] == "preliminary"

    rest = oru_for(order, patient, glucose("152", status="F"), potassium("6.8", flag="HH"))
    assert ack_segments((await post_oru(client, headers, rest.text())).text)["MSA"][1] == "AA"
    detail = (await client.get(f"{API}/lab-orders/{order.id}", headers=doctor.headers)).json()
    assert detail["status"] == "final"
    item = next(i for i in detail["items"] if i["loinc_code"] == GLUCOSE)
    assert item["result"]["value"] == "152" and [h["value"] for h in item["history"]] == ["150"]

    correction = oru_for(order, patient, potassium("5.0", status="C"))
    assert ack_segments((await post_oru(client, headers, correction.text())).text)["MSA"][1] == "AA"
    detail = (await client.get(f"{API}/lab-orders/{order.id}", headers=doctor.headers)).json()
    assert detail["status"] == "corrected" and detail["corrected_at"] is not None


async def test_a_second_final_without_correction_is_an_application_error(
    client: httpx.AsyncClient, sessions: Sessions, admin: dict[str, str], doctor: Clinician
) -> None:
    patient = await create_patient(sessions)
    order = await lab_order(sessions, patient_id=patient.id, by=doctor, tests=(GLUCOSE,))
    headers = admin
    await post_oru(client, headers, oru_for(order, patient, glucose("100")).text())

    again = oru_for(order, patient, glucose("120"))
    ack = ack_segments((await post_oru(client, headers, again.text())).text)

    assert ack["MSA"][1] == "AE"
    [row] = await messages_with_control_id(sessions, again.control_id)
    assert row.status is MessageStatus.ERROR and "correction (C)" in (row.reason or "")
    assert [r.value for r in await results_of(sessions, order.id)] == ["100"]


async def test_unknown_placer_order_is_ae_and_waits_in_the_inbox(
    client: httpx.AsyncClient, sessions: Sessions, admin: dict[str, str], doctor: Clinician
) -> None:
    patient = await create_patient(sessions)
    message = Oru(placer="LNOSUCHORDER1", mrn=patient.mrn, observations=[glucose()])

    ack = ack_segments((await post_oru(client, admin, message.text())).text)

    assert ack["MSA"][1:3] == ["AE", message.control_id]
    assert ack["ERR"][2] == "OBR^1^2" and ack["ERR"][3].startswith("204^")
    assert "LNOSUCHORDER1" in ack["ERR"][8]
    [row] = await messages_with_control_id(sessions, message.control_id)
    assert row.status is MessageStatus.ERROR and row.patient_id == patient.id
    assert row.placer_order_number == "LNOSUCHORDER1" and "no order" in (row.reason or "")
    assert row.raw == message.text()

    waiting = (await client.get(f"{API}/hl7/messages", params={"status": "error"}, headers=admin)).json()
    assert str(row.id) in [m["id"] for m in waiting["items"]]
    one = (await client.get(f"{API}/hl7/messages/{row.id}", headers=admin)).json()
    assert one["raw"] == message.text() and one["reason"] == row.reason


async def test_patient_mismatch_is_ae(
    client: httpx.AsyncClient, sessions: Sessions, admin: dict[str, str], doctor: Clinician
) -> None:
    patient, someone_else = await create_patient(sessions), await create_patient(sessions)
    order = await lab_order(sessions, patient_id=patient.id, by=doctor)
    message = oru_for(order, someone_else, glucose())

    ack = ack_segments((await post_oru(client, admin, message.text())).text)

    assert ack["MSA"][1] == "AE" and ack["ERR"][2] == "PID^1^3"
    [row] = await messages_with_control_id(sessions, message.control_id)
    assert row.status is MessageStatus.ERROR and "mismatch" in (row.reason or "")
    assert await results_of(sessions, order.id) == []


async def test_test_not_on_the_order_is_ae(
    client: httpx.AsyncClient, sessions: Sessions, admin: dict[str, str], doctor: Clinician
) -> None:
    patient = await create_patient(sessions)
    order = await lab_order(sessions, patient_id=patient.id, by=doctor, tests=(GLUCOSE,))
    message = oru_for(order, patient, glucose(), potassium())

    ack = ack_segments((await post_oru(client, admin, message.text())).text)

    assert ack["MSA"][1] == "AE" and ack["ERR"][2] == "OBX^2^3"
    assert await results_of(sessions, order.id) == []  # all or nothing


@pytest.mark.parametrize(
    ("body", "error_code"),
    [
        ("this is not HL7 at all", "100"),
        ("MSH|^~\\&|LAB|FAC|OWNAT|HOSP|20250301||ADT^A01|CTLADT1|P|2.5.1\rPID|1||X^^^H^MR\r", "200"),
        ("MSH|^~\\&|LAB|FAC|OWNAT|HOSP|20250301||ORU^R01|CTLV21|P|3.0\rPID|1||X^^^H^MR\r", "203"),
    ],
    ids=["garbage", "wrong-type", "unsupported-version"],
)
async def test_unacceptable_messages_are_ar_and_kept(
    client: httpx.AsyncClient, sessions: Sessions, admin: dict[str, str], body: str, error_code: str
) -> None:
    marker = f"{body} {uuid.uuid4()}"

    ack = ack_segments((await post_oru(client, admin, marker, media_type="text/plain")).text)

    assert ack["MSA"][1] == "AR" and ack["ERR"][3].startswith(f"{error_code}^")
    [row] = await messages_with_raw(sessions, marker)
    assert row.status is MessageStatus.REJECTED and row.ack_code == "AR" and row.reason


async def test_same_control_id_twice_is_aa_twice_and_filed_once(
    client: httpx.AsyncClient, sessions: Sessions, admin: dict[str, str], doctor: Clinician
) -> None:
    patient = await create_patient(sessions)
    order = await lab_order(sessions, patient_id=patient.id, by=doctor)
    message = oru_for(order, patient, glucose(), potassium()).text()
    headers = admin

    acks = [ack_segments((await post_oru(client, headers, message)).text) for _ in range(2)]

    assert [a["MSA"][1] for a in acks] == ["AA", "AA"]
    assert len(await results_of(sessions, order.id)) == 2
    first, second = await messages_with_control_id(sessions, acks[0]["MSA"][2])
    assert (first.status, second.status) == (MessageStatus.ACCEPTED, MessageStatus.DUPLICATE)
    assert second.duplicate_of_id == first.id and second.raw == message


async def test_lf_line_endings_are_accepted(
    client: httpx.AsyncClient, sessions: Sessions, admin: dict[str, str], doctor: Clinician
) -> None:
    patient = await create_patient(sessions)
    order = await lab_order(sessions, patient_id=patient.id, by=doctor, tests=(GLUCOSE,))
    message = oru_for(order, patient, Obx(GLUCOSE, "<^40", value_type="SN", flag="LL")).text(separator="\n")

    ack = ack_segments((await post_oru(client, doctor.headers, message)).text)

    assert ack["MSA"][1] == "AA"
    [result] = await results_of(sessions, order.id)
    assert (result.value, result.comparator, result.value_numeric) == ("<40", "<", Decimal("40"))


async def test_admin_reprocesses_an_inbox_message_against_an_order(
    client: httpx.AsyncClient, sessions: Sessions, admin: dict[str, str], doctor: Clinician
) -> None:
    patient = await create_patient(sessions)
    order = await lab_order(sessions, patient_id=patient.id, by=doctor)
    # The laboratory typed the placer number wrongly.
    message = Oru(placer="LTYPO", mrn=patient.mrn, observations=[glucose(), potassium()])
    await post_oru(client, admin, message.text())
    [row] = await messages_with_control_id(sessions, message.control_id)

    response = await client.post(
        f"{API}/hl7/messages/{row.id}/resolve",
        json={"action": "reprocess", "order_id": str(order.id), "note": "placer number mistyped by the lab"},
        headers=admin,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["resolution"], body["order_id"]) == (
        "resolved",
        "reprocessed",
        str(order.id),
    )
    assert body["resolved_by"] is not None and body["resolution_note"] == "placer number mistyped by the lab"
    assert {r.source_message_id for r in await results_of(sessions, order.id)} == {row.id}
    again = await client.post(
        f"{API}/hl7/messages/{row.id}/resolve", json={"action": "dismiss", "note": "twice"}, headers=admin
    )
    assert again.status_code == 409
    resolutions = await audit_entries(sessions, resource_type="hl7_message", resource_id=row.id)
    assert ("resolve", patient.id) in [(e.action, e.patient_id) for e in resolutions]


async def test_reprocessing_that_still_fails_changes_nothing(
    client: httpx.AsyncClient, sessions: Sessions, admin: dict[str, str], doctor: Clinician
) -> None:
    patient = await create_patient(sessions)
    message = Oru(placer="LSTILLMISSING", mrn=patient.mrn, observations=[glucose()])
    await post_oru(client, admin, message.text())
    [row] = await messages_with_control_id(sessions, message.control_id)

    response = await client.post(
        f"{API}/hl7/messages/{row.id}/resolve", json={"action": "reprocess", "note": "retry"}, headers=admin
    )

    assert response.status_code == 409 and "LSTILLMISSING" in response.json()["detail"]
    [unchanged] = await messages_with_control_id(sessions, message.control_id)
    assert unchanged.status is MessageStatus.ERROR and unchanged.resolved_at is None


async def test_admin_dismisses_a_rejected_message(
    client: httpx.AsyncClient, sessions: Sessions, admin: dict[str, str], doctor: Clinician
) -> None:
    message = Oru(placer="LX", mrn="M0", message_type="ORM^O01")
    await post_oru(client, admin, message.text())
    [row] = await messages_with_control_id(sessions, message.control_id)
    assert row.status is MessageStatus.REJECTED

    response = await client.post(
        f"{API}/hl7/messages/{row.id}/resolve",
        json={"action": "dismiss", "note": "order message sent to the results interface"},
        headers=admin,
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["resolution"]) == ("resolved", "dismissed")


async def test_retransmission_filed_after_the_order_exists_settles_the_earlier_attempt(
    client: httpx.AsyncClient, sessions: Sessions, admin: dict[str, str], doctor: Clinician
) -> None:
    patient = await create_patient(sessions)
    order = await lab_order(sessions, patient_id=patient.id, by=doctor, tests=(GLUCOSE,))
    message = oru_for(order, patient, glucose())
    wrong = dataclasses.replace(message, mrn="NOBODY")
    assert ack_segments((await post_oru(client, admin, wrong.text())).text)["MSA"][1] == "AE"

    assert ack_segments((await post_oru(client, admin, message.text())).text)["MSA"][1] == "AA"

    earlier, later = await messages_with_control_id(sessions, message.control_id)
    assert (earlier.status, earlier.resolution) == (MessageStatus.RESOLVED, "retransmitted")
    assert later.status is MessageStatus.ACCEPTED


async def test_hl7_endpoint_needs_a_supported_media_type(
    client: httpx.AsyncClient, sessions: Sessions, admin: dict[str, str], doctor: Clinician
) -> None:
    response = await post_oru(client, admin, "MSH|", media_type="application/json")
    assert response.status_code == 415


@pytest.mark.parametrize("role", [Role.NURSE, Role.PATIENT])
async def test_hl7_endpoint_refuses_other_roles(
    client: httpx.AsyncClient, sessions: Sessions, role: Role
) -> None:
    _, headers = await signed_in(client, sessions, role)
    assert (await post_oru(client, headers, "MSH|^~\\&|A")).status_code == 403


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.NURSE, Role.PATIENT])
async def test_inbox_is_for_administrators(client: httpx.AsyncClient, sessions: Sessions, role: Role) -> None:
    _, headers = await signed_in(client, sessions, role)
    some_id = "00000000-0000-0000-0000-000000000001"
    assert (await client.get(f"{API}/hl7/messages", headers=headers)).status_code == 403
    assert (await client.get(f"{API}/hl7/messages/{some_id}", headers=headers)).status_code == 403
    resolve = await client.post(
        f"{API}/hl7/messages/{some_id}/resolve", json={"action": "dismiss", "note": "x"}, headers=headers
    )
    assert resolve.status_code == 403


async def test_hl7_endpoints_need_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    some_id = "00000000-0000-0000-0000-000000000001"
    assert (await post_oru(client, {}, "MSH|^~\\&|A")).status_code == 401
    assert (await client.get(f"{API}/hl7/messages")).status_code == 401
    assert (await client.get(f"{API}/hl7/messages/{some_id}")).status_code == 401
    resolve = await client.post(
        f"{API}/hl7/messages/{some_id}/resolve", json={"action": "dismiss", "note": "x"}
    )
    assert resolve.status_code == 401


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("3.5-5.1", "3.5", "5.1"),
        ("-2 - 2", "-2", "2"),
        ("<5", None, "5"),
        (">=60", "60", None),
        ("Negative", None, None),
    ],
)
def test_reference_ranges_are_read_as_written(text: str, low: str | None, high: str | None) -> None:
    parsed = parse_reference_range(text)
    assert (parsed.low, parsed.high, parsed.text) == (
        None if low is None else Decimal(low),
        None if high is None else Decimal(high),
        text,
    )


def test_times_without_an_offset_take_the_senders_zone() -> None:
    cet = timezone(timedelta(hours=1))
    assert parse_dtm("202503010830", default_tz=cet) == datetime(2025, 3, 1, 7, 30, tzinfo=UTC)
    assert parse_dtm("20250301083000-0500", default_tz=cet) == datetime(2025, 3, 1, 13, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_dtm("yesterday", default_tz=UTC)


def test_acks_escape_delimiters_and_answer_unreadable_messages() -> None:
    ack = build_ack(None, AckOutcome(AckCode.REJECT, "bad | field ^ here", ErrorCode.SEGMENT_SEQUENCE))
    segments = ack_segments(ack)
    assert segments["MSA"][1:] == ["AR", "", "bad \\F\\ field \\S\\ here"]
    assert segments["ERR"][3] == "100^Segment sequence error^HL70357"


def test_old_versions_get_an_err_1_location() -> None:
    header = read_header(parse_message("MSH|^~\\&|LAB|FAC|OWNAT|H|20250301||ORU^R01|C9|P|2.3\rPID|1"))
    outcome = AckOutcome(AckCode.ERROR, "no order", ErrorCode.UNKNOWN_KEY, Location("OBR", 1, 2))
    segments = ack_segments(build_ack(header, outcome))
    assert segments["MSH"][11] == "2.3" and segments["ERR"][1] == "OBR^1^2^204&Unknown key identifier&HL70357"


@pytest.mark.embedded
async def test_orders_and_hl7_intake_work_on_the_embedded_sqlite_database(
    app_with: AppFactory, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'lab.sqlite3'}"
    await migrate.upgrade_async(url)
    async with app_with(database_url=url) as sqlite_app, http_client(sqlite_app) as client:
        sqlite_sessions = sqlite_app.state.resources.sessions
        doctor = await clinician(client, sqlite_sessions)
        _, admin = await signed_in(client, sqlite_sessions, Role.ADMIN)
        patient = await create_patient(sqlite_sessions)
        placed = await client.post(
            f"{API}/lab-orders",
            json={"patient_id": str(patient.id), "tests": [POTASSIUM]},
            headers=doctor.headers,
        )
        order_id = placed.json()["id"]
        message = Oru(
            placer=placed.json()["placer_order_number"],
            mrn=patient.mrn,
            observations=[potassium("5.40", reference_range="3.50-5.10")],
        )

        acks = [
            ack_segments((await post_oru(client, admin, message.text())).text)["MSA"][1] for _ in range(2)
        ]
        unknown = Oru(placer="LNOTHERE", mrn=patient.mrn, observations=[potassium()])
        refused = ack_segments((await post_oru(client, admin, unknown.text())).text)["MSA"][1]
        detail = (await client.get(f"{API}/lab-orders/{order_id}", headers=doctor.headers)).json()

    assert (acks, refused) == (["AA", "AA"], "AE")
    [item] = detail["items"]
    # Decimals survive SQLite exactly, trailing zeros included.
    assert (item["result"]["value_numeric"], item["result"]["reference_low"]) == ("5.40", "3.50")
    assert detail["status"] == "final"
