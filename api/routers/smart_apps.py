"""SMART apps inside Ownat: administrators register them; users answer their consent requests;
clinicians open them from a chart (EHR launch)."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from pydantic import BaseModel

from api.deps import AdminPrincipal, CurrentPrincipal, ResourcesDep, SessionDep, SettingsDep, StaffPrincipal
from clinical import patients
from core import identity
from core.errors import NotFound

router = APIRouter(prefix="/smart", tags=["smart"])


@router.post("/apps", status_code=201, response_model=identity.AppCreated, summary="Register a SMART app")
async def register_app(
    body: identity.AppCreate, actor: AdminPrincipal, session: SessionDep
) -> identity.AppCreated:
    return await identity.register_app(session=session, actor=actor, app=body)


@router.get("/apps", response_model=list[identity.AppRead], summary="Every registered SMART app")
async def list_apps(actor: AdminPrincipal, session: SessionDep) -> list[identity.AppRead]:
    return await identity.list_apps(session=session, actor=actor)


class AppUpdate(BaseModel):
    is_active: bool


@router.patch("/apps/{app_id}", response_model=identity.AppRead, summary="Suspend or restore an app")
async def update_app(
    app_id: uuid.UUID, body: AppUpdate, actor: AdminPrincipal, session: SessionDep, resources: ResourcesDep
) -> identity.AppRead:
    return await identity.set_app_active(
        session=session,
        actor=actor,
        app_id=app_id,
        active=body.is_active,
        revocations=resources.revocations,
        access_token_ttl_s=resources.settings.access_token_ttl_s,
    )


@router.get(
    "/authorizations/{authorization_id}",
    response_model=identity.ConsentRead,
    summary="A pending app authorisation, for the consent page",
)
async def consent(
    authorization_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep
) -> identity.ConsentRead:
    return await identity.read_consent(session=session, actor=actor, authorization_id=authorization_id)


class Approval(BaseModel):
    patient_id: uuid.UUID | None = None


class Continue(BaseModel):
    """Where the browser goes next: back to the app."""

    redirect_to: str


@router.post("/authorizations/{authorization_id}/approve", response_model=Continue, summary="Allow the app")
async def approve(
    authorization_id: uuid.UUID, body: Approval, actor: CurrentPrincipal, session: SessionDep
) -> Continue:
    if body.patient_id is not None and actor.is_staff:
        # The chosen patient must exist (and the choice is audited as a read of that record).
        await patients.get_patient(session=session, principal=actor, patient_id=body.patient_id)
    url = await identity.approve_authorization(
        session=session, actor=actor, authorization_id=authorization_id, patient_id=body.patient_id
    )
    return Continue(redirect_to=url)


@router.post("/authorizations/{authorization_id}/deny", response_model=Continue, summary="Refuse the app")
async def deny(authorization_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep) -> Continue:
    return Continue(
        redirect_to=await identity.deny_authorization(
            session=session, actor=actor, authorization_id=authorization_id
        )
    )


@router.get("/launchable-apps", response_model=list[identity.AppRead], summary="Apps a chart can open")
async def launchable_apps(actor: StaffPrincipal, session: SessionDep) -> list[identity.AppRead]:
    return await identity.launchable_apps(session=session)


class LaunchCreate(BaseModel):
    client_id: str
    patient_id: uuid.UUID


class Launch(BaseModel):
    url: str


@router.post("/launches", response_model=Launch, summary="Open an app with a patient (EHR launch)")
async def launch(
    body: LaunchCreate, request: Request, actor: StaffPrincipal, session: SessionDep, settings: SettingsDep
) -> Launch:
    await patients.get_patient(session=session, principal=actor, patient_id=body.patient_id)
    app = await identity.app_by_client_id(session, body.client_id)
    if app is None or app.launch_url is None:
        raise NotFound("There is no app with this client_id that a chart can open.")
    launch_value = identity.issue_launch(
        settings=settings, user_id=actor.user_id, patient_id=body.patient_id, client_id=app.client_id
    )
    iss = str(request.base_url).rstrip("/") + "/fhir/R4"
    separator = "&" if "?" in app.launch_url else "?"
    return Launch(url=f"{app.launch_url}{separator}{urlencode({'iss': iss, 'launch': launch_value})}")


@router.get("/connected-apps", response_model=list[identity.ConnectedApp], summary="The apps you let in")
async def connected_apps(
    actor: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> list[identity.ConnectedApp]:
    return await identity.connected_apps(session=session, actor=actor, settings=settings)


@router.delete("/connected-apps/{grant_id}", status_code=204, summary="End an app's access to your account")
async def disconnect(
    grant_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep, resources: ResourcesDep
) -> None:
    await identity.disconnect_app(
        session=session,
        actor=actor,
        grant_id=grant_id,
        settings=resources.settings,
        revocations=resources.revocations,
    )
