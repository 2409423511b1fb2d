"""Device registry endpoints: devices, their secrets, their status and their bindings to patients.

Who may do what is decided (and refusals audited) in `devices.registry.access`: administrators
register devices, issue secrets and take devices out of service; nurses and clinicians bind and
unbind; staff read; a patient only sees the devices bound to themselves.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from api.deps import CurrentPrincipal, PatientInScope, SessionDep
from devices import registry
from devices.registry import (
    BindingCreate,
    BindingEnd,
    BindingRead,
    BrokerAccess,
    CredentialIssued,
    DeviceCreate,
    DeviceKind,
    DevicePage,
    DeviceRead,
    DeviceStatus,
    DeviceUpdate,
    PatientDeviceRead,
    StatusChange,
)

router = APIRouter(tags=["devices"])


def get_broker_access(request: Request) -> BrokerAccess | None:
    """The app's broker administration (opened by the app's lifespan); None when there is none."""
    access: BrokerAccess | None = request.app.state.device_broker_access
    return access


BrokerDep = Annotated[BrokerAccess | None, Depends(get_broker_access)]


@router.post("/devices", status_code=201, response_model=DeviceRead, summary="Register a device")
async def register_device(body: DeviceCreate, actor: CurrentPrincipal, session: SessionDep) -> DeviceRead:
    return await registry.register_device(session=session, actor=actor, device=body)


@router.get("/devices", response_model=DevicePage, summary="Page through devices by device id")
async def list_devices(
    actor: CurrentPrincipal,
    session: SessionDep,
    status: DeviceStatus | None = None,
    kind: DeviceKind | None = None,
    patient_id: Annotated[uuid.UUID | None, Query(description="bound to this patient now")] = None,
    ward_id: Annotated[uuid.UUID | None, Query(description="bound on this ward now")] = None,
    after: Annotated[str | None, Query(max_length=64, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=registry.MAX_PAGE_SIZE)] = 50,
) -> DevicePage:
    return await registry.list_devices(
        session=session,
        actor=actor,
        status=status,
        kind=kind,
        patient_id=patient_id,
        ward_id=ward_id,
        after=after,
        limit=limit,
    )


@router.get("/devices/{device}", response_model=DeviceRead, summary="One device")
async def get_device(device: uuid.UUID, actor: CurrentPrincipal, session: SessionDep) -> DeviceRead:
    return await registry.get_device(session=session, actor=actor, device_uuid=device)


@router.patch(
    "/devices/{device}",
    response_model=DeviceRead,
    summary="Change a device's model, firmware or identifiers (EUI-64, UDI)",
)
async def update_device(
    device: uuid.UUID, body: DeviceUpdate, actor: CurrentPrincipal, session: SessionDep
) -> DeviceRead:
    return await registry.update_device(session=session, actor=actor, device_uuid=device, changes=body)


@router.post(
    "/devices/{device}/credentials",
    status_code=201,
    response_model=CredentialIssued,
    summary="Issue or rotate the device's secret (shown once)",
)
async def issue_credential(
    device: uuid.UUID, actor: CurrentPrincipal, session: SessionDep, broker: BrokerDep, response: Response
) -> CredentialIssued:
    # The secret must not linger in any cache between here and the administrator.
    response.headers["Cache-Control"] = "no-store"
    return await registry.issue_credential(session=session, actor=actor, device_uuid=device, broker=broker)


@router.post("/devices/{device}/revoke", response_model=DeviceRead, summary="Revoke a distrusted device")
async def revoke_device(
    device: uuid.UUID, body: StatusChange, actor: CurrentPrincipal, session: SessionDep, broker: BrokerDep
) -> DeviceRead:
    return await registry.revoke_device(
        session=session, actor=actor, device_uuid=device, reason=body.reason, broker=broker
    )


@router.post(
    "/devices/{device}/deactivate", response_model=DeviceRead, summary="Take a device out of service"
)
async def deactivate_device(
    device: uuid.UUID, body: StatusChange, actor: CurrentPrincipal, session: SessionDep, broker: BrokerDep
) -> DeviceRead:
    return await registry.deactivate_device(
        session=session, actor=actor, device_uuid=device, reason=body.reason, broker=broker
    )


@router.post("/devices/{device}/activate", response_model=DeviceRead, summary="Return a device to service")
async def activate_device(device: uuid.UUID, actor: CurrentPrincipal, session: SessionDep) -> DeviceRead:
    return await registry.activate_device(session=session, actor=actor, device_uuid=device)


@router.get("/devices/{device}/bindings", response_model=list[BindingRead], summary="A device's bindings")
async def list_device_bindings(
    device: uuid.UUID, actor: CurrentPrincipal, session: SessionDep
) -> list[BindingRead]:
    return await registry.list_device_bindings(session=session, actor=actor, device_uuid=device)


@router.post(
    "/devices/{device}/bindings",
    status_code=201,
    response_model=BindingRead,
    summary="Bind a device to a patient and/or bed",
)
async def bind_device(
    device: uuid.UUID, body: BindingCreate, actor: CurrentPrincipal, session: SessionDep
) -> BindingRead:
    return await registry.bind_device(session=session, actor=actor, device_uuid=device, binding=body)


@router.post("/bindings/{binding}/end", response_model=BindingRead, summary="End a binding")
async def end_binding(
    binding: uuid.UUID, actor: CurrentPrincipal, session: SessionDep, body: BindingEnd | None = None
) -> BindingRead:
    return await registry.end_binding(
        session=session, actor=actor, binding_id=binding, end=body or BindingEnd()
    )


@router.get(
    "/patients/{patient_id}/devices",
    response_model=list[PatientDeviceRead],
    summary="Devices bound to a patient (the patient themself may ask)",
)
async def list_patient_devices(
    patient_id: PatientInScope,
    actor: CurrentPrincipal,
    session: SessionDep,
    current_only: bool = True,
) -> list[PatientDeviceRead]:
    return await registry.list_patient_devices(
        session=session, actor=actor, patient_id=patient_id, current_only=current_only
    )
