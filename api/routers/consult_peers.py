"""Server-side WebRTC peers: the pre-call echo check and recording with consent, and the consult pages.

The peers' registry belongs to the app: `start_peers` opens it in the lifespan, `stop_peers` hangs
up every peer at shutdown. The pages are public shells like the other pages, but they alone are
allowed the camera and microphone.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response

from api.deps import CurrentPrincipal, ResourcesDep, SessionDep
from api.pages import page_response
from clinical import documents
from clinical.documents import DocumentRead
from realtime import consult
from realtime.consult import (
    ConsentChange,
    PeerAnswer,
    PeerRegistry,
    PeerSettings,
    RecorderJoined,
    RecordingPlace,
    RecordingState,
    SessionOffer,
    load_peer_settings,
)

router = APIRouter(tags=["consult peers"])
pages_router = APIRouter(include_in_schema=False)
MEDIA_PERMISSIONS = "camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=()"


def start_peers(app: FastAPI, settings: PeerSettings | None = None) -> None:
    """Opens the registry of server-side peers for this app."""
    app.state.peer_settings = settings or load_peer_settings()
    app.state.peer_registry = PeerRegistry(max_connections=app.state.peer_settings.consult_peers_max)


async def stop_peers(app: FastAPI) -> None:
    """Hangs up every server-side peer."""
    await app.state.peer_registry.close_all()


def get_peer_registry(request: Request) -> PeerRegistry:
    registry: PeerRegistry = request.app.state.peer_registry
    return registry


def get_peer_settings(request: Request) -> PeerSettings:
    settings: PeerSettings = request.app.state.peer_settings
    return settings


RegistryDep = Annotated[PeerRegistry, Depends(get_peer_registry)]
PeerSettingsDep = Annotated[PeerSettings, Depends(get_peer_settings)]


def get_recording_place(request: Request, resources: ResourcesDep) -> RecordingPlace:
    return RecordingPlace(
        registry=request.app.state.peer_registry,
        settings=request.app.state.peer_settings,
        sessions=resources.sessions,
        app_settings=resources.settings,
        # The consult signalling server of this app, which the recorder joins rooms through.
        consult=getattr(request.app.state, "consult", None),
    )


PlaceDep = Annotated[RecordingPlace, Depends(get_recording_place)]
RECORDING = "/encounters/{encounter_id}/recording"


@router.post(
    "/consult/precall",
    status_code=201,
    response_model=PeerAnswer,
    summary="Start a pre-call check: the server returns your camera and microphone",
)
async def start_precall(
    offer: SessionOffer,
    actor: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
    registry: RegistryDep,
    settings: PeerSettingsDep,
) -> PeerAnswer:
    return await consult.start_precall(
        session=session,
        actor=actor,
        registry=registry,
        limiter=resources.rate_limiter,
        settings=settings,
        offer=offer,
    )


@router.delete("/consult/precall/{peer_id}", status_code=204, summary="End your pre-call check")
async def stop_precall(peer_id: uuid.UUID, actor: CurrentPrincipal, registry: RegistryDep) -> Response:
    await consult.stop_precall(actor=actor, registry=registry, peer_id=peer_id)
    return Response(status_code=204)


@router.get(RECORDING, response_model=RecordingState, summary="Consents and the recorder's state")
async def recording_state(
    encounter_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep, place: PlaceDep
) -> RecordingState:
    return await consult.recording_state(session=session, actor=actor, place=place, encounter_id=encounter_id)


@router.put(
    f"{RECORDING}/consent",
    response_model=RecordingState,
    summary="Give or withdraw your consent to recording (withdrawing stops a running recording)",
)
async def change_consent(
    encounter_id: uuid.UUID,
    body: ConsentChange,
    actor: CurrentPrincipal,
    session: SessionDep,
    place: PlaceDep,
) -> RecordingState:
    return await consult.change_consent(
        session=session, actor=actor, place=place, encounter_id=encounter_id, given=body.consent
    )


@router.post(
    f"{RECORDING}/recorder",
    status_code=201,
    response_model=RecorderJoined,
    summary="Clinician: send the recorder into the room's waiting room (both parties must have consented)",
)
async def start_recorder(
    encounter_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep, place: PlaceDep
) -> RecorderJoined:
    return await consult.start_in_room(session=session, actor=actor, place=place, encounter_id=encounter_id)


@router.post(
    f"{RECORDING}/stop",
    response_model=DocumentRead | None,
    summary="Stop recording: the file is attached to the patient's record (null if it never started)",
)
async def stop_recording(
    encounter_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep, place: PlaceDep
) -> DocumentRead | None:
    document_id = await consult.stop_recording(
        session=session, actor=actor, place=place, encounter_id=encounter_id
    )
    if document_id is None:
        return None
    document = await documents.get_document(session=session, actor=actor, document_id=document_id)
    return DocumentRead.model_validate(document)


def _media_page(relative: str) -> Response:
    response = page_response(relative)
    response.headers["Permissions-Policy"] = MEDIA_PERMISSIONS
    return response


@pages_router.get("/consult/")
async def patient_consult_page() -> Response:
    return _media_page("consult/patient.html")


@pages_router.get("/consult/clinician/")
async def clinician_consult_page() -> Response:
    return _media_page("consult/clinician.html")


@pages_router.get("/consult/guest")
async def guest_consult_page() -> Response:
    # Where an invitation's `link_path` leads; its token is in the fragment, which browsers never send.
    return _media_page("consult/guest.html")
