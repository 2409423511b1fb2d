"""Lab orders over HTTP: the catalogue, ordering, the lifecycle, manual results, scoping and access."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.principal import Role
from core.resources import Resources
from tests.builders import http_client, signed_in
from tests.clinical.builders import create_patient, signed_in_patient
from tests.clinical.lab_builders import (
    API,
    GLUCOSE,
    HEMOGLOBIN,
    POTASSIUM,
    SODIUM,
    Clinician,
    audit_entries,
    clinician,
    lab_order,
    staff_headers,
)

Sessions = async_sessionmaker[AsyncSession]
SOME_ID = "00000000-0000-0000-0000-000000000001"


@pytest.fixture(scope="module")
async def doctor(app: FastAPI, resources: Resources) -> Clinician:
    async with http_client(app) as client:
        return await clinician(client, resources.sessions)


@pytest.fixture(scope="module")
async def nurse(app: FastAPI, resources: Resources) -> dict[str, str]:
    return await staff_headers(app, resources.sessions, Role.NURSE)


async def move(
    client: httpx.AsyncClient, headers: dict[str, str], order_id: object, status: str, **body: str
) -> httpx.Response:
    return await client.post(
        f"{API}/lab-orders/{order_id}/status", json={"status": status, **body}, headers=headers
    )


async def enter(
    client: httpx.AsyncClient, headers: dict[str, str], order_id: object, *results: dict[str, str]
) -> httpx.Response:
    return await client.post(
        f"{API}/lab-orders/{order_id}/results", json={"results": list(results)}, headers=headers
    )


async def test_catalogue_lists_common_loinc_tests(client: httpx.AsyncClient, sessions: Sessions) -> None:
    _, headers = await signed_in(client, sessions, Role.PATIENT)
    response = await client.get(f"{API}/lab/catalogue", headers=headers)
    assert response.status_code == 200
    tests = {t["loinc_code"]: t for t in response.json()}
    assert len(tests) >= 30
    assert tests[GLUCOSE]["unit"] == "mg/dL" and tests[GLUCOSE]["critical_high"] == "500"
    assert {r["sex"] for r in tests[HEMOGLOBIN]["adult_reference_ranges"]} == {"male", "female"}
    assert {"6690-2", "777-3", "2160-0", "4548-4", "1988-5", "89579-7", "2524-7"} <= set(tests)


async def test_clinician_orders_tests(
    client: httpx.AsyncClient, sessions: Sessions, doctor: Clinician
) -> None:
    patient = await create_patient(sessions)
    response = await client.post(
        f"{API}/lab-orders",
        json={
            "patient_id": str(patient.id),
            "tests": [GLUCOSE, SODIUM],
            "priority": "stat",
            "clinical_note": "chest pain",
        },
        headers=doctor.headers,
    )
    assert response.status_code == 201, response.text
    order = response.json()
    assert re.fullmatch(r"L\d{6}[0-9A-HJKMNP-TV-Z]{6}", order["placer_order_number"])
    assert (order["status"], order["priority"], order["tests"]) == ("registered", "stat", [GLUCOSE, SODIUM])
    assert order["ordering_practitioner_id"] == str(doctor.practitioner.id)
    assert [(i["loinc_code"], i["specimen"], i["result"]) for i in order["items"]] == [
        (GLUCOSE, "Serum or plasma", None),
        (SODIUM, "Serum or plasma", None),
    ]
    created = await audit_entries(sessions, resource_type="lab_order", resource_id=order["id"])
    assert [(e.action, e.patient_id) for e in created] == [("create", patient.id)]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"tests": ["99999-9"]}, 422, "lab-unknown-test"),
        ({"tests": [GLUCOSE, GLUCOSE]}, 422, "validation-failed"),
        ({"tests": []}, 422, "validation-failed"),
        ({"tests": [GLUCOSE], "encounter_id": SOME_ID}, 422, "invalid-input"),
        ({"tests": [GLUCOSE], "ordering_practitioner_id": SOME_ID}, 422, "invalid-input"),
    ],
    ids=["unknown-test", "twice", "none", "foreign-encounter", "unknown-practitioner"],
)
async def test_invalid_orders_are_refused(
    client: httpx.AsyncClient,
    sessions: Sessions,
    doctor: Clinician,
    body: dict[str, object],
    status: int,
    code: str,
) -> None:
    patient = await create_patient(sessions)
    response = await client.post(
        f"{API}/lab-orders", json={"patient_id": str(patient.id), **body}, headers=doctor.headers
    )
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


async def test_ordering_for_an_unknown_patient_is_404(client: httpx.AsyncClient, doctor: Clinician) -> None:
    response = await client.post(
        f"{API}/lab-orders", json={"patient_id": SOME_ID, "tests": [GLUCOSE]}, headers=doctor.headers
    )
    assert response.status_code == 404


@pytest.mark.parametrize("role", [Role.ADMIN, Role.NURSE, Role.PATIENT])
async def test_only_clinicians_order(client: httpx.AsyncClient, sessions: Sessions, role: Role) -> None:
    _, headers = await signed_in(client, sessions, role)
    response = await client.post(
        f"{API}/lab-orders", json={"patient_id": SOME_ID, "tests": [GLUCOSE]}, headers=headers
    )
    assert response.status_code == 403


async def test_order_lifecycle_by_hand_and_by_results(
    client: httpx.AsyncClient, sessions: Sessions, doctor: Clinician, nurse: dict[str, str]
) -> None:
    patient = await create_patient(sessions)
    order = await lab_order(sessions, patient_id=patient.id, by=doctor)

    assert (await move(client, nurse, order.id, "in_progress")).status_code == 409  # not collected yet
    assert (await move(client, nurse, order.id, "collected")).json()["status"] == "collected"
    assert (await move(client, nurse, order.id, "collected")).status_code == 409
    assert (await move(client, nurse, order.id, "in_progress")).json()["status"] == "in_progress"
    assert (await move(client, nurse, order.id, "final")).status_code == 409  # results make it final

    partial = await enter(client, nurse, order.id, {"loinc_code": GLUCOSE, "value": "95"})
    assert partial.status_code == 200, partial.text
    assert partial.json()["status"] == "preliminary"
    done = await enter(client, doctor.headers, order.id, {"loinc_code": POTASSIUM, "value": "4.0"})
    assert done.json()["status"] == "final" and done.json()["final_at"] is not None

    again = await enter(client, nurse, order.id, {"loinc_code": POTASSIUM, "value": "4.1"})
    assert again.status_code == 409 and again.json()["code"] == "lab-result-refused"
    corrected = await enter(
        client, nurse, order.id, {"loinc_code": POTASSIUM, "value": "4.1", "status": "corrected"}
    )
    assert corrected.json()["status"] == "corrected"
    assert (await move(client, nurse, order.id, "cancelled", reason="too late")).status_code == 409
    changes = await audit_entries(sessions, resource_type="lab_order", resource_id=order.id)
    assert [e.detail.get("status") for e in changes if e.action == "update"] == [
        "registered->collected",
        "collected->in_progress",
    ]


async def test_cancelling_needs_a_reason_and_ends_the_order(
    client: httpx.AsyncClient, sessions: Sessions, doctor: Clinician, nurse: dict[str, str]
) -> None:
    patient = await create_patient(sessions)
    order = await lab_order(sessions, patient_id=patient.id, by=doctor)

    assert (await move(client, nurse, order.id, "cancelled")).status_code == 422
    cancelled = await move(client, doctor.headers, order.id, "cancelled", reason="patient declined")
    assert cancelled.status_code == 200
    assert (cancelled.json()["cancel_reason"], cancelled.json()["cancelled_at"] is not None) == (
        "patient declined",
        True,
    )
    assert (await move(client, nurse, order.id, "collected")).status_code == 409
    refused = await enter(client, nurse, order.id, {"loinc_code": GLUCOSE, "value": "5"})
    assert refused.status_code == 409


async def test_manual_results_take_range_and_flag_from_the_catalogue(
    client: httpx.AsyncClient, sessions: Sessions, doctor: Clinician, nurse: dict[str, str]
) -> None:
    patient = await create_patient(sessions)  # a woman born in 1980
    order = await lab_order(
        sessions, patient_id=patient.id, by=doctor, tests=(GLUCOSE, POTASSIUM, HEMOGLOBIN, SODIUM)
    )

    response = await enter(
        client,
        nurse,
        order.id,
        {"loinc_code": GLUCOSE, "value": "180", "observed_at": "2025-03-01T08:30:00+01:00"},
        {"loinc_code": POTASSIUM, "value": "7.0"},
        {"loinc_code": HEMOGLOBIN, "value": "11.0"},
        {"loinc_code": SODIUM, "value": "haemolysed", "status": "preliminary"},
    )

    assert response.status_code == 200, response.text
    results = {i["loinc_code"]: i["result"] for i in response.json()["items"]}
    glucose = results[GLUCOSE]
    assert (glucose["abnormal_flag"], glucose["reference_low"], glucose["reference_high"]) == (
        "H",
        "70",
        "99",
    )
    assert glucose["value_numeric"] == "180" and glucose["unit"] == "mg/dL" and glucose["value_type"] == "NM"
    assert glucose["observed_at"].startswith("2025-03-01T07:30:00")
    assert results[POTASSIUM]["abnormal_flag"] == "HH"
    assert (results[HEMOGLOBIN]["abnormal_flag"], results[HEMOGLOBIN]["reference_text"]) == ("L", "12.0-15.5")
    assert (results[SODIUM]["value_type"], results[SODIUM]["abnormal_flag"]) == ("ST", None)
    assert results[GLUCOSE]["entered_by"] is not None and results[GLUCOSE]["source_message_id"] is None


async def test_a_numeric_result_must_be_a_number(
    client: httpx.AsyncClient, sessions: Sessions, doctor: Clinician, nurse: dict[str, str]
) -> None:
    patient = await create_patient(sessions)
    order = await lab_order(sessions, patient_id=patient.id, by=doctor)
    response = await enter(
        client, nurse, order.id, {"loinc_code": GLUCOSE, "value": "1,5", "value_type": "NM"}
    )
    assert response.status_code == 422
    response = await enter(client, nurse, order.id, {"loinc_code": HEMOGLOBIN, "value": "12"})
    assert response.status_code == 409  # not on this order


async def test_patient_sees_only_their_own_released_results(
    client: httpx.AsyncClient, sessions: Sessions, doctor: Clinician, nurse: dict[str, str]
) -> None:
    patient, headers = await signed_in_patient(client, sessions)
    order = await lab_order(sessions, patient_id=patient.id, by=doctor)
    other_order = await lab_order(sessions, patient_id=(await create_patient(sessions)).id, by=doctor)
    await enter(
        client,
        nurse,
        order.id,
        {"loinc_code": GLUCOSE, "value": "140", "status": "preliminary"},
        {"loinc_code": POTASSIUM, "value": "4.4"},
    )

    mine = await client.get(f"{API}/lab-orders/{order.id}", headers=headers)
    assert mine.status_code == 200
    visible = {i["loinc_code"]: i for i in mine.json()["items"]}
    assert visible[GLUCOSE]["result"] is None  # preliminary: for clinicians only
    assert visible[POTASSIUM]["result"]["value"] == "4.4" and visible[POTASSIUM]["history"] == []
    staff_view = (await client.get(f"{API}/lab-orders/{order.id}", headers=nurse)).json()
    assert {i["loinc_code"]: i["result"]["value"] for i in staff_view["items"]} == {
        GLUCOSE: "140",
        POTASSIUM: "4.4",
    }

    listed = (await client.get(f"{API}/lab-orders", headers=headers)).json()
    assert [o["id"] for o in listed["items"]] == [str(order.id)]
    assert (await client.get(f"{API}/lab-orders/{other_order.id}", headers=headers)).status_code == 403
    others = await client.get(
        f"{API}/lab-orders", params={"patient_id": str(other_order.patient_id)}, headers=headers
    )
    assert others.status_code == 403
    denied = await audit_entries(sessions, resource_type="lab_order", resource_id=other_order.id)
    assert [(e.action, e.outcome) for e in denied if e.outcome == "denied"] == [("read", "denied")]
    reads = await audit_entries(sessions, resource_type="lab_order", resource_id=order.id)
    assert ("read", patient.id) in [(e.action, e.patient_id) for e in reads]


async def test_staff_list_filters_by_patient_and_status_and_pages(
    client: httpx.AsyncClient, sessions: Sessions, doctor: Clinician, nurse: dict[str, str]
) -> None:
    patient = await create_patient(sessions)
    placed = [await lab_order(sessions, patient_id=patient.id, by=doctor) for _ in range(3)]
    await move(client, nurse, placed[0].id, "collected")
    params = {"patient_id": str(patient.id), "limit": "2"}

    first = (await client.get(f"{API}/lab-orders", params=params, headers=nurse)).json()
    second = (
        await client.get(
            f"{API}/lab-orders", params={**params, "cursor": first["next_cursor"]}, headers=nurse
        )
    ).json()
    collected = (
        await client.get(f"{API}/lab-orders", params={**params, "status": "collected"}, headers=nurse)
    ).json()

    assert [o["id"] for o in first["items"] + second["items"]] == [str(o.id) for o in reversed(placed)]
    assert second["next_cursor"] is None
    assert [o["id"] for o in collected["items"]] == [str(placed[0].id)]
    assert (
        await client.get(f"{API}/lab-orders", params={"cursor": "nonsense"}, headers=nurse)
    ).status_code == 422


async def test_patients_cannot_change_orders(
    client: httpx.AsyncClient, sessions: Sessions, doctor: Clinician
) -> None:
    patient, headers = await signed_in_patient(client, sessions)
    order = await lab_order(sessions, patient_id=patient.id, by=doctor)
    assert (await move(client, headers, order.id, "cancelled", reason="no")).status_code == 403
    assert (await enter(client, headers, order.id, {"loinc_code": GLUCOSE, "value": "5"})).status_code == 403


async def test_unknown_order_is_404(client: httpx.AsyncClient, nurse: dict[str, str]) -> None:
    assert (await client.get(f"{API}/lab-orders/{uuid.uuid4()}", headers=nurse)).status_code == 404
    assert (await move(client, nurse, uuid.uuid4(), "collected")).status_code == 404


async def test_lab_endpoints_need_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{API}/lab/catalogue")).status_code == 401
    assert (await client.get(f"{API}/lab-orders")).status_code == 401
    assert (await client.get(f"{API}/lab-orders/{SOME_ID}")).status_code == 401
    assert (await client.post(f"{API}/lab-orders", json={})).status_code == 401
    assert (await move(client, {}, SOME_ID, "collected")).status_code == 401
    assert (await enter(client, {}, SOME_ID, {"loinc_code": GLUCOSE, "value": "5"})).status_code == 401
