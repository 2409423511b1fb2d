"""The organisation: departments, practitioners, wards and beds, admissions and the ward census.

Reading departments and practitioners is open to every signed-in user; wards, beds and the census
to staff; administrators change the structure; clinicians and nurses admit, transfer and discharge.
A patient sees only their own admissions.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AdminPrincipal, CareStaffPrincipal, CurrentPrincipal, SessionDep, StaffPrincipal
from clinical import organisation
from clinical.organisation import (
    AdmissionCreate,
    AdmissionRead,
    BedCreate,
    BedRead,
    BedUpdate,
    DepartmentCreate,
    DepartmentRead,
    DepartmentUpdate,
    DischargeRequest,
    PractitionerCreate,
    PractitionerRead,
    PractitionerUpdate,
    TransferRequest,
    WardCensus,
    WardCreate,
    WardRead,
    WardUpdate,
)

router = APIRouter(tags=["organisation"])

IncludeInactive = Annotated[bool, Query(description="Also list inactive entries")]


@router.get("/departments", response_model=list[DepartmentRead], summary="Departments")
async def list_departments(
    _: CurrentPrincipal, session: SessionDep, include_inactive: IncludeInactive = False
) -> list[DepartmentRead]:
    rows = await organisation.list_departments(session=session, include_inactive=include_inactive)
    return [DepartmentRead.model_validate(row) for row in rows]


@router.post("/departments", status_code=201, response_model=DepartmentRead, summary="Create a department")
async def create_department(
    body: DepartmentCreate, actor: AdminPrincipal, session: SessionDep
) -> DepartmentRead:
    return DepartmentRead.model_validate(
        await organisation.create_department(session=session, actor=actor, data=body)
    )


@router.get("/departments/{department_id}", response_model=DepartmentRead, summary="One department")
async def get_department(
    department_id: uuid.UUID, _: CurrentPrincipal, session: SessionDep
) -> DepartmentRead:
    return DepartmentRead.model_validate(
        await organisation.get_department(session=session, department_id=department_id)
    )


@router.patch("/departments/{department_id}", response_model=DepartmentRead, summary="Change a department")
async def update_department(
    department_id: uuid.UUID, body: DepartmentUpdate, actor: AdminPrincipal, session: SessionDep
) -> DepartmentRead:
    row = await organisation.update_department(
        session=session, actor=actor, department_id=department_id, changes=body
    )
    return DepartmentRead.model_validate(row)


@router.get("/practitioners", response_model=list[PractitionerRead], summary="Practitioners, by specialty")
async def list_practitioners(
    _: CurrentPrincipal,
    session: SessionDep,
    specialty: Annotated[str | None, Query(max_length=64, examples=["cardiology"])] = None,
    department_id: uuid.UUID | None = None,
    include_inactive: IncludeInactive = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[PractitionerRead]:
    rows = await organisation.list_practitioners(
        session=session,
        specialty=specialty,
        department_id=department_id,
        include_inactive=include_inactive,
        limit=limit,
        offset=offset,
    )
    return [PractitionerRead.model_validate(row) for row in rows]


@router.post(
    "/practitioners", status_code=201, response_model=PractitionerRead, summary="Create a practitioner"
)
async def create_practitioner(
    body: PractitionerCreate, actor: AdminPrincipal, session: SessionDep
) -> PractitionerRead:
    row = await organisation.create_practitioner(session=session, actor=actor, data=body)
    return PractitionerRead.model_validate(row)


@router.get("/practitioners/{practitioner_id}", response_model=PractitionerRead, summary="One practitioner")
async def get_practitioner(
    practitioner_id: uuid.UUID, _: CurrentPrincipal, session: SessionDep
) -> PractitionerRead:
    row = await organisation.get_practitioner(session=session, practitioner_id=practitioner_id)
    return PractitionerRead.model_validate(row)


@router.patch(
    "/practitioners/{practitioner_id}", response_model=PractitionerRead, summary="Change a practitioner"
)
async def update_practitioner(
    practitioner_id: uuid.UUID, body: PractitionerUpdate, actor: AdminPrincipal, session: SessionDep
) -> PractitionerRead:
    row = await organisation.update_practitioner(
        session=session, actor=actor, practitioner_id=practitioner_id, changes=body
    )
    return PractitionerRead.model_validate(row)


@router.get("/wards", response_model=list[WardRead], summary="Wards")
async def list_wards(
    _: StaffPrincipal,
    session: SessionDep,
    department_id: uuid.UUID | None = None,
    include_inactive: IncludeInactive = False,
) -> list[WardRead]:
    rows = await organisation.list_wards(
        session=session, department_id=department_id, include_inactive=include_inactive
    )
    return [WardRead.model_validate(row) for row in rows]


@router.post("/wards", status_code=201, response_model=WardRead, summary="Create a ward")
async def create_ward(body: WardCreate, actor: AdminPrincipal, session: SessionDep) -> WardRead:
    return WardRead.model_validate(await organisation.create_ward(session=session, actor=actor, data=body))


@router.get("/wards/{ward_id}", response_model=WardRead, summary="One ward")
async def get_ward(ward_id: uuid.UUID, _: StaffPrincipal, session: SessionDep) -> WardRead:
    return WardRead.model_validate(await organisation.get_ward(session=session, ward_id=ward_id))


@router.patch("/wards/{ward_id}", response_model=WardRead, summary="Change a ward")
async def update_ward(
    ward_id: uuid.UUID, body: WardUpdate, actor: AdminPrincipal, session: SessionDep
) -> WardRead:
    return WardRead.model_validate(
        await organisation.update_ward(session=session, actor=actor, ward_id=ward_id, changes=body)
    )


@router.get("/wards/{ward_id}/beds", response_model=list[BedRead], summary="Beds of a ward")
async def list_beds(
    ward_id: uuid.UUID, _: StaffPrincipal, session: SessionDep, include_inactive: IncludeInactive = False
) -> list[BedRead]:
    rows = await organisation.list_beds(session=session, ward_id=ward_id, include_inactive=include_inactive)
    return [BedRead.model_validate(row) for row in rows]


@router.post("/wards/{ward_id}/beds", status_code=201, response_model=BedRead, summary="Add a bed to a ward")
async def create_bed(
    ward_id: uuid.UUID, body: BedCreate, actor: AdminPrincipal, session: SessionDep
) -> BedRead:
    return BedRead.model_validate(
        await organisation.create_bed(session=session, actor=actor, ward_id=ward_id, data=body)
    )


@router.patch("/beds/{bed_id}", response_model=BedRead, summary="Relabel or take a bed out of service")
async def update_bed(
    bed_id: uuid.UUID, body: BedUpdate, actor: AdminPrincipal, session: SessionDep
) -> BedRead:
    return BedRead.model_validate(
        await organisation.update_bed(session=session, actor=actor, bed_id=bed_id, changes=body)
    )


@router.get(
    "/wards/{ward_id}/census", response_model=WardCensus, summary="Current bed to patient (dashboards)"
)
async def ward_census(ward_id: uuid.UUID, principal: StaffPrincipal, session: SessionDep) -> WardCensus:
    return await organisation.ward_census(session=session, principal=principal, ward_id=ward_id)


@router.post("/admissions", status_code=201, response_model=AdmissionRead, summary="Admit a patient to a bed")
async def admit(body: AdmissionCreate, actor: CareStaffPrincipal, session: SessionDep) -> AdmissionRead:
    return AdmissionRead.model_validate(await organisation.admit(session=session, actor=actor, data=body))


@router.get("/admissions", response_model=list[AdmissionRead], summary="Admissions, newest first")
async def list_admissions(
    principal: CurrentPrincipal,
    session: SessionDep,
    patient_id: uuid.UUID | None = None,
    ward_id: uuid.UUID | None = None,
    current: Annotated[bool, Query(description="Only stays in progress now")] = False,
    limit: Annotated[int, Query(ge=1, le=organisation.MAX_ADMISSION_LIST)] = 50,
) -> list[AdmissionRead]:
    rows = await organisation.list_admissions(
        session=session,
        principal=principal,
        patient_id=patient_id,
        ward_id=ward_id,
        current_only=current,
        limit=limit,
    )
    return [AdmissionRead.model_validate(row) for row in rows]


@router.get("/admissions/{admission_id}", response_model=AdmissionRead, summary="One admission")
async def get_admission(
    admission_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> AdmissionRead:
    row = await organisation.get_admission(session=session, principal=principal, admission_id=admission_id)
    return AdmissionRead.model_validate(row)


@router.post(
    "/admissions/{admission_id}/transfer", status_code=201, response_model=AdmissionRead, summary="Transfer"
)
async def transfer(
    admission_id: uuid.UUID, body: TransferRequest, actor: CareStaffPrincipal, session: SessionDep
) -> AdmissionRead:
    row = await organisation.transfer(session=session, actor=actor, admission_id=admission_id, request=body)
    return AdmissionRead.model_validate(row)


@router.post("/admissions/{admission_id}/discharge", response_model=AdmissionRead, summary="Discharge")
async def discharge(
    admission_id: uuid.UUID, body: DischargeRequest, actor: CareStaffPrincipal, session: SessionDep
) -> AdmissionRead:
    row = await organisation.discharge(session=session, actor=actor, admission_id=admission_id, request=body)
    return AdmissionRead.model_validate(row)
