"""NUL and other control characters in any text input are refused at the edge, naming the field."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.identity.models import Role
from tests.builders import signed_in
from tests.clinical.builders import create_patient, signed_in_patient

PROBLEM = "application/problem+json"


def _refused(response: httpx.Response, pointer: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == "control-character"
    assert body["errors"][0]["pointer"] == pointer
    assert pointer in body["detail"]


def _fhir_refused(response: httpx.Response, pointer: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    issue = response.json()["issue"][0]
    assert issue["code"] == "invalid"
    assert issue["expression"] == [pointer]


@pytest.mark.parametrize("field", ["email", "password", "full_name"])
async def test_register_refuses_nul_in_any_field(client: httpx.AsyncClient, field: str) -> None:
    body = {"email": "nul@example.org", "password": "Correct-horse-battery-9", "full_name": "Ada Lovelace"}
    body[field] = body[field][:3] + "\x00" + body[field][3:]
    _refused(await client.post("/api/v1/auth/register", json=body), f"#/body/{field}")


async def test_login_refuses_nul(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/login", json={"email": "a\x00@example.org", "password": "x"})
    _refused(response, "#/body/email")


async def test_other_controls_and_lone_surrogates_are_refused_too(client: httpx.AsyncClient) -> None:
    # As JSON escapes: ESC, DEL, NEL (a C1 control) and half a surrogate pair.
    for escape in (r"\u001b[31m", r"\u007f", r"\u0085", r"\ud800"):
        content = '{"email": "a@example.org", "password": "p' + escape + 'w"}'
        response = await client.post(
            "/api/v1/auth/login", content=content.encode(), headers={"content-type": "application/json"}
        )
        _refused(response, "#/body/password")


async def test_record_writes_are_checked(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.CLINICIAN)
    patient = await create_patient(sessions)
    response = await client.post(
        f"/api/v1/patients/{patient.id}/allergies",
        json={"substance_text": "Penicillin", "reaction": "hives\x00"},
        headers=headers,
    )
    _refused(response, "#/body/reaction")


async def test_free_text_keeps_tabs_and_line_breaks(client: httpx.AsyncClient) -> None:
    # Refused for its password, not for its line breaks.
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "tabs@example.org", "password": "short", "full_name": "Ada\tLovelace\r\n"},
    )
    assert response.status_code != 422 or response.json()["code"] != "control-character"


async def test_query_parameters_are_checked(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.CLINICIAN)
    response = await client.get("/api/v1/patients", params={"name": "Ada\x00"}, headers=headers)
    _refused(response, "#/query/name")
    # Line breaks are not free text in a query parameter.
    response = await client.get("/api/v1/patients", params={"identifier": "MRN\n1"}, headers=headers)
    _refused(response, "#/query/identifier")


async def test_path_and_headers_are_checked(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.CLINICIAN)
    _refused(await client.get(f"/api/v1/patients/{uuid.uuid4()}%00", headers=headers), "#/path")
    response = await client.get("/api/v1/auth/me", headers={**headers, "x-note": "a\x01b"})
    _refused(response, "#/header/x-note")


async def test_fhir_answers_with_an_operation_outcome(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.CLINICIAN)
    response = await client.get("/fhir/R4/Patient", params={"name": "Ada\x00"}, headers=headers)
    _fhir_refused(response, "#/query/name")
    response = await client.post(
        "/fhir/R4/Patient/_search",
        content=b"family=Love%00lace",
        headers={**headers, "content-type": "application/x-www-form-urlencoded"},
    )
    _fhir_refused(response, "#/body/family")
    response = await client.get(f"/fhir/R4/Patient/{uuid.uuid4()}%00", headers=headers)
    _fhir_refused(response, "#/path")
    resource = {"resourceType": "Patient", "name": [{"family": "Love\x00lace", "given": ["Ada"]}]}
    response = await client.post("/fhir/R4/Patient", json=resource, headers=headers)
    _fhir_refused(response, "#/body/name/0/family")


async def test_form_fields_and_file_names_are_checked_but_not_file_contents(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in_patient(client, sessions)
    threads = "/api/v1/message-threads"
    data = {"department_id": str(uuid.uuid4()), "subject": "Rash\x00", "body": "Since Monday"}
    _refused(await client.post(threads, data=data, headers=headers), "#/body/subject")
    data["subject"] = "Rash"
    # Built by hand: HTTP clients percent-escape controls in file names, a hostile sender need not.
    raw = b"".join(
        [
            b'--xx\r\nContent-Disposition: form-data; name="subject"\r\n\r\nRash\r\n',
            b'--xx\r\nContent-Disposition: form-data; name="files"; filename="photo\x00.png"\r\n',
            b"Content-Type: image/png\r\n\r\n\x89PNG\r\n--xx--\r\n",
        ]
    )
    response = await client.post(
        threads, content=raw, headers={**headers, "content-type": "multipart/form-data; boundary=xx"}
    )
    _refused(response, "#/body/files/filename")
    # A file's bytes may hold anything: this one goes on to the endpoint (refused there, for the team).
    files = {"files": ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00", "image/png")}
    response = await client.post(threads, data=data, files=files, headers=headers)
    assert response.status_code != 422 or response.json()["code"] != "control-character"
