"""Medical records: uploads checked by content and size, checksums, downloads, scoping, soft delete."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.documents import service
from clinical.documents.models import Document
from clinical.documents.schemas import DocumentUpload
from clinical.documents.storage import FileSystemStorage
from core.audit.models import AuditEvent
from core.errors import PayloadTooLarge
from core.principal import Role
from core.sessions import transaction
from core.settings import Settings
from tests.clinical.encounter_builders import API, People, exe_bytes, jpeg_bytes, pdf_bytes, png_bytes

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def people(sessions: Sessions, settings: Settings) -> People:
    return People(sessions, settings)


@pytest.fixture
def storage(settings: Settings) -> FileSystemStorage:
    return FileSystemStorage(settings.data_dir.resolve() / "documents")


async def _upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    patient_id: uuid.UUID,
    content: bytes,
    *,
    filename: str = "report.pdf",
    content_type: str = "application/pdf",
    title: str = "Discharge letter",
    kind: str = "report",
) -> httpx.Response:
    return await client.post(
        f"{API}/patients/{patient_id}/documents",
        data={"title": title, "kind": kind},
        files={"file": (filename, content, content_type)},
        headers=headers,
    )


async def test_staff_upload_a_pdf_and_the_patient_downloads_it(
    client: httpx.AsyncClient, sessions: Sessions, people: People
) -> None:
    nurse, account = await people.staff(Role.NURSE), await people.patient()
    content = pdf_bytes()
    response = await _upload(client, nurse.headers, account.patient_id, content, filename="Lettre d'été.pdf")
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    assert document["size_bytes"] == len(content)
    assert document["content_type"] == "application/pdf"
    assert document["kind"] == "report" and document["uploaded_by"] == str(nurse.user.id)

    download = await client.get(f"{API}/documents/{document['id']}/content", headers=account.headers)
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith('attachment; filename="Lettre d\'_t_.pdf";')
    assert "filename*=UTF-8''Lettre%20d%27%C3%A9t%C3%A9.pdf" in download.headers["content-disposition"]
    assert (
        download.headers["repr-digest"]
        == f"sha-256=:{base64.b64encode(hashlib.sha256(content).digest()).decode()}:"
    )
    assert download.headers["cache-control"] == "private, no-store"

    async with sessions() as session:
        actions = set(
            await session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.resource_id == document["id"], AuditEvent.patient_id == account.patient_id
                )
            )
        )
    assert {"create", "download"} <= actions


async def test_a_patient_uploads_a_png_to_their_own_record(client: httpx.AsyncClient, people: People) -> None:
    me = await people.patient()
    response = await _upload(
        client,
        me.headers,
        me.patient_id,
        png_bytes(),
        filename="rash.png",
        content_type="image/png",
        kind="other",
    )
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == "image/png"
    listed = await client.get(f"{API}/patients/{me.patient_id}/documents", headers=me.headers)
    assert [d["id"] for d in listed.json()["items"]] == [response.json()["id"]]


async def test_the_content_decides_the_type(client: httpx.AsyncClient, people: People) -> None:
    clinician = await people.staff()
    patient_id = await people.patient_record()
    # A client that does not know the type: the bytes say JPEG, the name gets a matching extension.
    response = await _upload(
        client,
        clinician.headers,
        patient_id,
        jpeg_bytes(),
        filename="scan",
        content_type="application/octet-stream",
    )
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == "image/jpeg"
    assert response.json()["filename"] == "scan.jpg"


@pytest.mark.parametrize(
    ("content", "filename", "content_type"),
    [
        (exe_bytes(), "invoice.pdf", "application/pdf"),  # an executable renamed to .pdf
        (b"<html><script>alert(1)</script></html>", "page.pdf", "application/pdf"),
        (pdf_bytes(), "photo.png", "image/png"),  # a real PDF declared as something else
    ],
)
async def test_content_that_is_not_what_it_claims_is_refused(
    client: httpx.AsyncClient,
    people: People,
    storage: FileSystemStorage,
    content: bytes,
    filename: str,
    content_type: str,
) -> None:
    clinician = await people.staff()
    patient_id = await people.patient_record()
    response = await _upload(
        client, clinician.headers, patient_id, content, filename=filename, content_type=content_type
    )
    assert response.status_code == 415
    assert response.headers["content-type"].startswith("application/problem+json")
    listed = await client.get(f"{API}/patients/{patient_id}/documents", headers=clinician.headers)
    assert listed.json()["items"] == []


async def test_bad_form_fields_and_empty_files_are_422(client: httpx.AsyncClient, people: People) -> None:
    clinician = await people.staff()
    patient_id = await people.patient_record()
    assert (await _upload(client, clinician.headers, patient_id, b"")).status_code == 422
    assert (await _upload(client, clinician.headers, patient_id, pdf_bytes(), title="  ")).status_code == 422
    assert (
        await _upload(client, clinician.headers, patient_id, pdf_bytes(), kind="selfie")
    ).status_code == 422
    no_file = await client.post(
        f"{API}/patients/{patient_id}/documents", data={"title": "x"}, headers=clinician.headers
    )
    assert no_file.status_code == 422
    unknown = await _upload(client, clinician.headers, uuid.uuid4(), pdf_bytes())
    assert unknown.status_code == 404


async def test_an_oversized_upload_is_413(client: httpx.AsyncClient, people: People) -> None:
    clinician = await people.staff()
    patient_id = await people.patient_record()
    big = pdf_bytes() + b"\0" * (service.DOCUMENT_MAX_BYTES + 1)
    response = await _upload(client, clinician.headers, patient_id, big)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


async def _stream(data: bytes, chunk: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), chunk):
        yield data[start : start + chunk]


async def test_the_size_limit_holds_while_streaming_and_leaves_nothing(
    sessions: Sessions, people: People, storage: FileSystemStorage
) -> None:
    actor = (await people.staff()).user.as_principal()
    patient_id = await people.patient_record()
    before = set(storage.root.rglob("*")) if storage.root.exists() else set()
    with pytest.raises(PayloadTooLarge):
        async with transaction(sessions) as session:
            await service.upload_document(
                session=session,
                actor=actor,
                storage=storage,
                patient_id=patient_id,
                upload=DocumentUpload(title="Too big"),
                filename="big.pdf",
                declared_type="application/pdf",
                chunks=_stream(pdf_bytes() + b"\0" * 10_000),
                max_bytes=5_000,
            )
    after = {path for path in storage.root.rglob("*") if path.is_file()}
    assert {path for path in after if path not in before} == set()
    async with sessions() as session:
        assert (await session.scalar(select(Document.id).where(Document.patient_id == patient_id))) is None


async def test_a_failed_transaction_removes_the_stored_file(
    sessions: Sessions, people: People, storage: FileSystemStorage
) -> None:
    actor = (await people.staff()).user.as_principal()
    patient_id = await people.patient_record()
    stored: list[Path] = []
    with pytest.raises(RuntimeError):
        async with transaction(sessions) as session:
            document = await service.upload_document(
                session=session,
                actor=actor,
                storage=storage,
                patient_id=patient_id,
                upload=DocumentUpload(title="Rolled back"),
                filename="a.pdf",
                declared_type="application/pdf",
                chunks=_stream(pdf_bytes()),
            )
            stored.append(storage.path_of(document.storage_key))
            assert stored[0].exists()
            raise RuntimeError("something later in the request failed")
    assert not stored[0].exists()


async def test_a_tampered_file_is_not_served(
    client: httpx.AsyncClient, people: People, storage: FileSystemStorage
) -> None:
    clinician = await people.staff()
    patient_id = await people.patient_record()
    document = (await _upload(client, clinician.headers, patient_id, pdf_bytes())).json()
    async with people.sessions() as session:
        key = (await session.get_one(Document, uuid.UUID(document["id"]))).storage_key
    storage.path_of(key).write_bytes(pdf_bytes("forged"))
    response = await client.get(f"{API}/documents/{document['id']}/content", headers=clinician.headers)
    assert response.status_code == 500
    assert response.json()["code"] == "document-integrity"
    storage.path_of(key).unlink()
    assert (
        await client.get(f"{API}/documents/{document['id']}/content", headers=clinician.headers)
    ).status_code == 500


async def test_another_patient_is_refused_everywhere(
    client: httpx.AsyncClient, sessions: Sessions, people: People
) -> None:
    owner, intruder = await people.patient(), await people.patient()
    document = (await _upload(client, owner.headers, owner.patient_id, pdf_bytes())).json()
    for response in (
        await _upload(client, intruder.headers, owner.patient_id, pdf_bytes()),
        await client.get(f"{API}/patients/{owner.patient_id}/documents", headers=intruder.headers),
        await client.get(f"{API}/documents/{document['id']}", headers=intruder.headers),
        await client.get(f"{API}/documents/{document['id']}/content", headers=intruder.headers),
        await client.delete(f"{API}/documents/{document['id']}", headers=intruder.headers),
    ):
        assert response.status_code == 403, response.request.url
        assert response.headers["content-type"].startswith("application/problem+json")
    async with sessions() as session:
        denied = list(
            await session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.actor_id == intruder.user.id, AuditEvent.outcome == "denied"
                )
            )
        )
    assert {"create", "list", "read", "download", "delete"} <= set(denied)


async def test_staff_soft_delete_and_the_record_is_kept(
    client: httpx.AsyncClient, sessions: Sessions, people: People, storage: FileSystemStorage
) -> None:
    admin, owner = await people.staff(Role.ADMIN), await people.patient()
    document = (await _upload(client, owner.headers, owner.patient_id, pdf_bytes())).json()
    assert (
        await client.delete(f"{API}/documents/{document['id']}", headers=owner.headers)
    ).status_code == 403
    assert (
        await client.delete(f"{API}/documents/{document['id']}", headers=admin.headers)
    ).status_code == 204
    assert (await client.get(f"{API}/documents/{document['id']}", headers=admin.headers)).status_code == 404
    assert (
        await client.get(f"{API}/documents/{document['id']}/content", headers=owner.headers)
    ).status_code == 404
    listed = await client.get(f"{API}/patients/{owner.patient_id}/documents", headers=owner.headers)
    assert listed.json()["items"] == []
    async with sessions() as session:
        row = await session.get_one(Document, uuid.UUID(document["id"]))
    assert row.deleted and row.deleted_by == admin.user.id
    assert storage.path_of(row.storage_key).exists()  # retained for the legal retention period


async def test_listing_pages_and_filters_by_kind(client: httpx.AsyncClient, people: People) -> None:
    clinician = await people.staff()
    patient_id = await people.patient_record()
    ids = []
    for kind in ("report", "consent", "report"):
        ids.append(
            (await _upload(client, clinician.headers, patient_id, pdf_bytes(), kind=kind)).json()["id"]
        )
    url = f"{API}/patients/{patient_id}/documents"
    first = (await client.get(url, params={"limit": 2}, headers=clinician.headers)).json()
    second = (
        await client.get(url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=clinician.headers)
    ).json()
    assert [d["id"] for d in first["items"] + second["items"]] == list(reversed(ids))
    assert second["next_cursor"] is None
    consents = (await client.get(url, params={"kind": "consent"}, headers=clinician.headers)).json()
    assert [d["id"] for d in consents["items"]] == [ids[1]]


async def test_documents_need_a_token(client: httpx.AsyncClient) -> None:
    some = uuid.uuid4()
    for method, url in [
        ("POST", f"{API}/patients/{some}/documents"),
        ("GET", f"{API}/patients/{some}/documents"),
        ("GET", f"{API}/documents/{some}"),
        ("GET", f"{API}/documents/{some}/content"),
        ("DELETE", f"{API}/documents/{some}"),
    ]:
        assert (await client.request(method, url)).status_code == 401, url
