"""HL7 v2 as real laboratories send it: units with their coding systems, comments (NTE), report
times (OBR-7, OBR-22) and the filler number (OBR-3), SPM before OBX, ED and FN values, a v2.2
sender answered in v2.2, and batches (FHS/BHS) answered with a batch acknowledgement over HTTP
and over a real MLLP socket."""

from __future__ import annotations

import asyncio
import base64
import secrets
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.lab.hl7.message import parse_message, read_header
from clinical.lab.hl7.oru import read_oru
from clinical.lab.mllp import END_BLOCK, START_BLOCK, MllpServer, frame
from clinical.lab.models import LabOrder
from clinical.lab.terms import MessageStatus, ValueType
from clinical.lab.units import MDC_TO_UCUM, is_ucum, unit_from_coding
from clinical.patients.models import Patient
from core.principal import Role
from core.resources import Resources
from tests.builders import http_client
from tests.clinical.builders import create_patient
from tests.clinical.lab_builders import (
    GLUCOSE,
    POTASSIUM,
    Clinician,
    ack_segments,
    clinician,
    lab_order,
    messages_with_control_id,
    post_oru,
    results_of,
    staff_headers,
)
from tests.fhir import builders as fhir_builders
from tests.fhir.conftest import fhir_json

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture(scope="module")
async def admin(app: FastAPI, resources: Resources) -> dict[str, str]:
    return await staff_headers(app, resources.sessions, Role.ADMIN)


@pytest.fixture(scope="module")
async def doctor(app: FastAPI, resources: Resources) -> Clinician:
    async with http_client(app) as client:
        return await clinician(client, resources.sessions)


def message(
    order: LabOrder, patient: Patient, body: list[str], *, version: str = "2.5.1", control: str | None = None
) -> tuple[str, str]:
    """An ORU^R01 about `order` whose segments after PID are `body` ({placer} is filled in)."""
    control = control or f"C{secrets.token_hex(6).upper()}"
    kind = "ORU^R01" if version in ("2.2", "2.3") else "ORU^R01^ORU_R01"
    segments = [
        f"MSH|^~\\&|LABSYS|CITYLAB|OWNAT|HOSPITAL|20250301090000+0000||{kind}|{control}|P|{version}",
        f"PID|1||{patient.mrn}^^^HOSPITAL^MR||DOE^JANE||19800517|F",
        *(segment.format(placer=order.placer_order_number) for segment in body),
    ]
    return "\r".join(segments) + "\r", control


async def _order(sessions: Sessions, doctor: Clinician) -> tuple[LabOrder, Patient]:
    patient = await create_patient(sessions)
    return await lab_order(sessions, patient_id=patient.id, by=doctor), patient


def test_ucum_is_checked_and_known_systems_are_mapped() -> None:
    for unit in ("mg/dL", "mmol/L", "10*9/L", "/min", "%", "mL/min/{1.73_m2}", "meq/L", "mm[Hg]", "[IU]/L"):
        assert is_ucum(unit), unit
    for unit in ("mEq/L", "cells/uL", "MMOL/L", "mg//dL", "(mg", ""):
        assert not is_ucum(unit), unit
    assert all(is_ucum(code) for code in MDC_TO_UCUM.values())
    assert unit_from_coding("262688", "MDC_DIM_PERCENT", "MDC").ucum == "%"  # type: ignore[union-attr]
    assert unit_from_coding("mEq/L", "mEq/L", "UCUM").ucum is None  # type: ignore[union-attr]
    local = unit_from_coding("mEq/L", "milliequivalents", "L")
    assert local is not None and (local.text, local.ucum) == ("milliequivalents", None)


async def test_units_comments_times_and_filler_number_reach_result_and_fhir(
    client: httpx.AsyncClient, sessions: Sessions, admin: dict[str, str], doctor: Clinician
) -> None:
    order, patient = await _order(sessions, doctor)
    text, control = message(
        order,
        patient,
        [
            "ORC|RE|{placer}|FIL-77",
            f"OBR|1|{{placer}}|FIL-77^LAB|24323-8^Panel^LN|||20250301073000+0000{'|' * 15}20250301085500+0000",
            "NTE|1|L|Specimen slightly haemolysed.",
            f"OBX|1|NM|{GLUCOSE}^Glucose^LN||130|262688^MDC_DIM_PERCENT^MDC|70-99|H|||F",
            "NTE|1|L|Fasting not confirmed.~Repeat advised.",
            f"OBX|2|NM|{POTASSIUM}^Potassium^LN||4.1|mEq/L^mEq/L^L|3.5-5.1|N|||F",
        ],
    )
    ack = ack_segments((await post_oru(client, admin, text)).text)
    assert ack["MSA"][1:3] == ["AA", control], ack
    stored = {r.loinc_code: r for r in await results_of(sessions, order.id)}
    assert (stored[GLUCOSE].unit, stored[GLUCOSE].unit_code) == ("%", "%")
    assert (stored[POTASSIUM].unit, stored[POTASSIUM].unit_code) == ("mEq/L", None)
    assert stored[GLUCOSE].note == "Fasting not confirmed.\nRepeat advised."

    headers = await fhir_builders.staff_headers(client, sessions, Role.CLINICIAN)
    glucose = fhir_json(await client.get(f"/fhir/R4/Observation/{stored[GLUCOSE].id}", headers=headers))
    assert glucose["valueQuantity"]["system"] == "http://unitsofmeasure.org"
    assert glucose["note"] == [{"text": "Fasting not confirmed.\nRepeat advised."}]
    potassium = fhir_json(await client.get(f"/fhir/R4/Observation/{stored[POTASSIUM].id}", headers=headers))
    assert potassium["valueQuantity"] == {"value": 4.1, "unit": "mEq/L"}  # no UCUM claimed
    report = fhir_json(await client.get(f"/fhir/R4/DiagnosticReport/{order.id}", headers=headers))
    assert datetime.fromisoformat(report["effectiveDateTime"]) == datetime(2025, 3, 1, 7, 30, tzinfo=UTC)
    assert datetime.fromisoformat(report["issued"]) == datetime(2025, 3, 1, 8, 55, tzinfo=UTC)
    assert {"system": "https://ownat.org/fhir/sid/filler-order-number", "value": "FIL-77"}.items() <= (
        next(i for i in report["identifier"] if i["type"]["coding"][0]["code"] == "FILL").items()
    )
    [comments] = report["presentedForm"]
    assert base64.b64decode(comments["data"]).decode() == "Specimen slightly haemolysed."
    request = fhir_json(await client.get(f"/fhir/R4/ServiceRequest/{order.id}", headers=headers))
    assert "FIL-77" in {i["value"] for i in request["identifier"]}


async def test_spm_before_obx_and_an_encapsulated_pdf_are_filed(
    client: httpx.AsyncClient, sessions: Sessions, admin: dict[str, str], doctor: Clinician
) -> None:
    order, patient = await _order(sessions, doctor)
    pdf = base64.b64encode(b"%PDF-1.4 report").decode()
    text, control = message(
        order,
        patient,
        [
            "OBR|1|{placer}||24323-8^Panel^LN",
            "SPM|1|||119297000^Blood specimen^SCT|||||||||||||20250301071500+0000",
            f"OBX|1|NM|{GLUCOSE}^Glucose^LN||101|mg/dL^mg/dL^UCUM|70-99|H|||F",
            f"OBX|2|ED|{POTASSIUM}^Potassium report^LN||LAB^AP^PDF^Base64^{pdf}||||||F",
            "OBX|3|ST|HEMO^Haemolysis index^L||slight||||||F",
        ],
    )
    ack = ack_segments((await post_oru(client, admin, text)).text)
    assert ack["MSA"][1:3] == ["AA", control], ack
    stored = {r.loinc_code: r for r in await results_of(sessions, order.id)}
    assert stored[GLUCOSE].value == "101" and stored[POTASSIUM].value_type is ValueType.ENCAPSULATED_DATA
    headers = await fhir_builders.staff_headers(client, sessions, Role.CLINICIAN)
    report = fhir_json(await client.get(f"/fhir/R4/DiagnosticReport/{order.id}", headers=headers))
    assert datetime.fromisoformat(report["effectiveDateTime"]) == datetime(2025, 3, 1, 7, 15, tzinfo=UTC)
    forms = {form["contentType"]: form for form in report["presentedForm"]}
    assert base64.b64decode(forms["application/pdf"]["data"]) == b"%PDF-1.4 report"
    comments = base64.b64decode(forms["text/plain; charset=utf-8"]["data"]).decode()
    assert "Blood specimen" in comments and "Haemolysis index: slight" in comments


def test_a_family_name_value_is_read() -> None:
    text = "\r".join(
        [
            "MSH|^~\\&|LAB|X|OWNAT|H|20250301090000||ORU^R01|C1|P|2.5.1",
            "PID|1||MRN-1^^^H^MR||DOE^JANE",
            "OBR|1|PL1",
            "OBX|1|FN|2345-7^Collected by^LN||van^der^Berg||||||F",
        ]
    )
    parsed = parse_message(text)
    oru = read_oru(parsed, read_header(parsed))
    [observation] = oru.orders[0].observations
    assert observation.value_type is ValueType.FAMILY_NAME and observation.value == "van der Berg"


async def test_a_v2_2_message_is_filed_and_acknowledged_in_v2_2(
    client: httpx.AsyncClient, sessions: Sessions, admin: dict[str, str], doctor: Clinician
) -> None:
    order, patient = await _order(sessions, doctor)
    text, control = message(
        order,
        patient,
        ["OBR|1|{placer}||24323-8^Panel^LN", f"OBX|1|NM|{GLUCOSE}^Glucose^LN||88|mg/dL|70-99|N|||F"],
        version="2.2",
    )
    ack = ack_segments((await post_oru(client, admin, text)).text)
    assert ack["MSA"][1:3] == ["AA", control]
    assert ack["MSH"][8] == "ACK^R01" and ack["MSH"][11] == "2.2"


def batch_of(*messages: str) -> str:
    head = [
        "FHS|^~\\&|LABSYS|CITYLAB|OWNAT|HOSPITAL|20250301090000||||FILE-9",
        "BHS|^~\\&|LABSYS|CITYLAB|OWNAT|HOSPITAL|20250301090000||||BATCH-4",
    ]
    body = [segment for text in messages for segment in text.strip("\r").split("\r")]
    return "\r".join([*head, *body, f"BTS|{len(messages)}", "FTS|1"]) + "\r"


def check_batch_ack(text: str, controls: list[str]) -> list[str]:
    segments = [segment.split("|") for segment in text.strip("\r").split("\r")]
    names = [s[0] for s in segments]
    assert names[:2] == ["FHS", "BHS"] and names[-2:] == ["BTS", "FTS"], names
    assert segments[0][11] == "FILE-9" and segments[1][11] == "BATCH-4"  # FHS-12 and BHS-12 refer back
    assert segments[1][4] == "LABSYS" and segments[-2][1] == str(len(controls))
    answers = [s for s in segments if s[0] == "MSA"]
    assert [a[2] for a in answers] == controls
    return [a[1] for a in answers]


async def test_a_batch_is_filed_message_by_message_and_acknowledged_as_a_batch(
    client: httpx.AsyncClient, sessions: Sessions, admin: dict[str, str], doctor: Clinician
) -> None:
    order, patient = await _order(sessions, doctor)
    good, good_control = message(
        order, patient, ["OBR|1|{placer}", f"OBX|1|NM|{GLUCOSE}^Glucose^LN||91|mg/dL^mg/dL^UCUM|70-99|N|||F"]
    )
    unknown, unknown_control = message(
        order, patient, ["OBR|1|NOSUCHORDER", f"OBX|1|NM|{GLUCOSE}^Glucose^LN||91|mg/dL|70-99|N|||F"]
    )
    response = await post_oru(client, admin, batch_of(good, unknown))
    assert check_batch_ack(response.text, [good_control, unknown_control]) == ["AA", "AE"]
    [filed] = await messages_with_control_id(sessions, good_control)
    [kept] = await messages_with_control_id(sessions, unknown_control)
    assert (filed.status, kept.status) == (MessageStatus.ACCEPTED, MessageStatus.ERROR)


async def test_a_batch_over_mllp_gets_one_batch_acknowledgement(
    sessions: Sessions, doctor: Clinician
) -> None:
    first, first_patient = await _order(sessions, doctor)
    second, second_patient = await _order(sessions, doctor)
    one, one_control = message(
        first, first_patient, ["OBR|1|{placer}", f"OBX|1|NM|{GLUCOSE}^Glucose^LN||91|mg/dL|70-99|N|||F"]
    )
    two, two_control = message(
        second, second_patient, ["OBR|1|{placer}", f"OBX|1|NM|{POTASSIUM}^K^LN||4.0|mmol/L|3.5-5.1|N|||F"]
    )
    async with MllpServer(sessions=sessions, host="127.0.0.1", port=0) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(frame(batch_of(one, two)))
        await writer.drain()
        framed = await asyncio.wait_for(reader.readuntil(END_BLOCK), 30)
        writer.close()
        await writer.wait_closed()
    assert framed.startswith(START_BLOCK)
    acks = check_batch_ack(framed[1 : -len(END_BLOCK)].decode(), [one_control, two_control])
    assert acks == ["AA", "AA"]
    assert len(await results_of(sessions, first.id)) == 1 and len(await results_of(sessions, second.id)) == 1
