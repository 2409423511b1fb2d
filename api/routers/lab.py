"""Laboratory: the test catalogue, lab orders and their results, and HL7 v2 ORU^R01 intake.

Clinicians order; staff move orders along and enter results; everyone signed in reads what their
role and scope allow (a patient: their own orders, and only released results). An interface
engine posts ORU^R01 messages with an ADMIN or CLINICIAN account (see `receive_oru`); the HL7
inbox is for administrators.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import (
    AdminPrincipal,
    ClinicianPrincipal,
    CurrentPrincipal,
    SessionDep,
    StaffPrincipal,
    require_roles,
)
from clinical import lab
from clinical.lab import (
    CatalogueTestRead,
    Hl7MessageRead,
    Hl7MessageSummary,
    LabOrderCreate,
    LabOrderRead,
    LabOrderSummary,
    MessageStatus,
    OrderStatus,
    ReferenceRangeRead,
    Resolve,
    ResultEntries,
    StatusChange,
    UnsupportedMediaType,
    decode_payload,
)
from core import audit
from core.errors import Unavailable
from core.paging import Page
from core.principal import Principal, Role
from devices.pcd import is_pcd01

router = APIRouter(tags=["lab"])
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=lab.MAX_ORDER_PAGE_SIZE)]
# An interface engine signs in with an accountable account: there is no separate interface role,
# and filing results is a clinical act, so administrators (the usual owners of interface accounts)
# and clinicians may post results; nurses and patients may not inject them.
InterfacePrincipal = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.CLINICIAN))]
HL7_MEDIA_TYPES = ("x-application/hl7-v2+er7", "application/hl7-v2", "text/plain")


@router.get("/lab/catalogue", response_model=list[CatalogueTestRead], summary="Orderable lab tests")
async def list_catalogue(actor: CurrentPrincipal) -> list[CatalogueTestRead]:
    return [
        CatalogueTestRead(
            loinc_code=test.loinc_code,
            display=test.display,
            specimen=test.specimen,
            unit=test.unit,
            adult_reference_ranges=[
                ReferenceRangeRead(sex=r.sex, low=r.low, high=r.high) for r in test.ranges
            ],
            critical_low=test.critical_low,
            critical_high=test.critical_high,
        )
        for test in lab.CATALOGUE_TESTS
    ]


@router.post("/lab-orders", status_code=201, response_model=LabOrderRead, summary="Order lab tests")
async def create_order(body: LabOrderCreate, actor: ClinicianPrincipal, session: SessionDep) -> LabOrderRead:
    order = await lab.create_order(session=session, actor=actor, new=body)
    return await lab.order_view(session, actor, order)


@router.get("/lab-orders", response_model=Page[LabOrderSummary], summary="Lab orders, newest first")
async def list_orders(
    actor: CurrentPrincipal,
    session: SessionDep,
    patient_id: uuid.UUID | None = None,
    status: OrderStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[LabOrderSummary]:
    return await lab.list_orders(
        session=session, principal=actor, patient_id=patient_id, status=status, cursor=cursor, limit=limit
    )


@router.get("/lab-orders/{order_id}", response_model=LabOrderRead, summary="One lab order with its results")
async def get_order(order_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep) -> LabOrderRead:
    return await lab.get_order(session=session, principal=actor, order_id=order_id)


@router.post("/lab-orders/{order_id}/status", response_model=LabOrderRead, summary="Collect, start or cancel")
async def change_status(
    order_id: uuid.UUID, body: StatusChange, actor: StaffPrincipal, session: SessionDep
) -> LabOrderRead:
    order = await lab.change_order_status(session=session, actor=actor, order_id=order_id, change=body)
    return await lab.order_view(session, actor, order)


@router.post("/lab-orders/{order_id}/results", response_model=LabOrderRead, summary="Enter results by hand")
async def enter_results(
    order_id: uuid.UUID, body: ResultEntries, actor: StaffPrincipal, session: SessionDep
) -> LabOrderRead:
    await lab.enter_results(session=session, actor=actor, order_id=order_id, entries=body)
    return await lab.get_order(session=session, principal=actor, order_id=order_id)


@router.post(
    "/hl7/oru",
    response_class=Response,
    summary="Receive an HL7 v2 ORU^R01 or a batch (FHS/BHS); the answer is its ACK (AA, AE or AR)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {media: {"schema": {"type": "string"}} for media in HL7_MEDIA_TYPES},
        },
        # The ACK comes back in the media type the message was sent in.
        "responses": {
            "200": {"content": {media: {"schema": {"type": "string"}} for media in HL7_MEDIA_TYPES}}
        },
    },
)
async def receive_oru(request: Request, actor: InterfacePrincipal, session: SessionDep) -> Response:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in HL7_MEDIA_TYPES:
        raise UnsupportedMediaType(f"Send the message as one of: {', '.join(HL7_MEDIA_TYPES)}.")
    raw = decode_payload(await request.body())
    if is_pcd01(raw):
        return await _receive_device_observation(request, raw, media_type, actor, session)
    ack = await lab.receive_hl7(
        session=session, actor=actor, raw=raw, channel=lab.HTTP_CHANNEL, received_by=actor.user_id
    )
    # Committed by SessionDep before this answer leaves, so an AA always means "stored".
    return Response(content=ack, media_type=media_type)


async def _receive_device_observation(
    request: Request, raw: str, media_type: str, actor: Principal, session: AsyncSession
) -> Response:
    """An IHE PCD-01 message: into the ingest pipeline; the ACK once its readings are committed."""
    receiver = request.app.state.pcd_receiver
    if receiver is None:
        raise Unavailable(
            "Device observations (IHE PCD-01) are not received over HTTP by this instance: "
            "send them over MLLP to `ownat mllp`, or set OWNAT_PCD_HTTP=true."
        )
    ack = await receiver.receive(raw, channel="http")
    # Who sent which message and how it was answered (the readings are attributed by ingest).
    msa = next((s.split("|") for s in ack.split("\r") if s.startswith("MSA")), ["MSA", "", ""])
    audit.record(
        session,
        actor=actor,
        action="receive",
        resource_type="pcd01_message",
        outcome="success" if msa[1] == "AA" else "failure",
        detail={"channel": "http", "ack": msa[1], "control_id": msa[2] if len(msa) > 2 else None},
    )
    return Response(content=ack, media_type=media_type)


@router.get("/hl7/messages", response_model=Page[Hl7MessageSummary], summary="The HL7 inbox, newest first")
async def list_messages(
    actor: AdminPrincipal,
    session: SessionDep,
    status: MessageStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[Hl7MessageSummary]:
    return await lab.list_messages(session=session, actor=actor, status=status, cursor=cursor, limit=limit)


@router.get(
    "/hl7/messages/{message_id}", response_model=Hl7MessageRead, summary="One message, raw text included"
)
async def get_message(message_id: uuid.UUID, actor: AdminPrincipal, session: SessionDep) -> Hl7MessageRead:
    message = await lab.get_message(session=session, actor=actor, message_id=message_id)
    return Hl7MessageRead.model_validate(message)


@router.post(
    "/hl7/messages/{message_id}/resolve",
    response_model=Hl7MessageRead,
    summary="Reprocess a waiting message (optionally against a chosen order) or dismiss it",
)
async def resolve_message(
    message_id: uuid.UUID, body: Resolve, actor: AdminPrincipal, session: SessionDep
) -> Hl7MessageRead:
    message = await lab.resolve_message(session=session, actor=actor, message_id=message_id, resolve=body)
    return Hl7MessageRead.model_validate(message)
