"""Scheduling: appointment types, practitioners' working hours and exceptions, free slots, appointments.

Patients book, see, reschedule and cancel their own appointments; staff do so for anyone and record
the visit (check-in, start, completion, no-show). Every call is audited by the service.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from api.deps import AdminPrincipal, CurrentPrincipal, SessionDep, StaffPrincipal
from clinical import encounters, scheduling
from clinical.scheduling import (
    Action,
    AppointmentCancel,
    AppointmentCreate,
    AppointmentRead,
    AppointmentReschedule,
    AppointmentStatus,
    AppointmentTypeCreate,
    AppointmentTypeRead,
    AppointmentTypeUpdate,
    ScheduleExceptionCreate,
    ScheduleExceptionRead,
    SlotList,
    WorkingHoursCreate,
    WorkingHoursRead,
)
from core.paging import Page

router = APIRouter(tags=["scheduling"])
HOURS = "/practitioners/{practitioner_id}/working-hours"
EXCEPTIONS = "/practitioners/{practitioner_id}/schedule-exceptions"


@router.post(
    "/appointment-types",
    status_code=201,
    response_model=AppointmentTypeRead,
    summary="Add an appointment type",
)
async def create_appointment_type(
    body: AppointmentTypeCreate, actor: AdminPrincipal, session: SessionDep
) -> AppointmentTypeRead:
    return AppointmentTypeRead.model_validate(
        await scheduling.create_type(session=session, actor=actor, new=body)
    )


@router.get("/appointment-types", response_model=list[AppointmentTypeRead], summary="The appointment types")
async def list_appointment_types(
    actor: CurrentPrincipal, session: SessionDep, include_inactive: bool = False
) -> list[AppointmentTypeRead]:
    found = await scheduling.list_types(session=session, actor=actor, include_inactive=include_inactive)
    return [AppointmentTypeRead.model_validate(t) for t in found]


@router.patch(
    "/appointment-types/{type_id}", response_model=AppointmentTypeRead, summary="Change an appointment type"
)
async def update_appointment_type(
    type_id: uuid.UUID, body: AppointmentTypeUpdate, actor: AdminPrincipal, session: SessionDep
) -> AppointmentTypeRead:
    changed = await scheduling.update_type(session=session, actor=actor, type_id=type_id, changes=body)
    return AppointmentTypeRead.model_validate(changed)


@router.get(HOURS, response_model=list[WorkingHoursRead], summary="A practitioner's weekly working hours")
async def list_working_hours(
    practitioner_id: uuid.UUID, actor: StaffPrincipal, session: SessionDep
) -> list[WorkingHoursRead]:
    found = await scheduling.list_working_hours(session=session, actor=actor, practitioner_id=practitioner_id)
    return [WorkingHoursRead.model_validate(h) for h in found]


@router.post(
    HOURS, status_code=201, response_model=WorkingHoursRead, summary="Add a weekly block of working hours"
)
async def add_working_hours(
    practitioner_id: uuid.UUID, body: WorkingHoursCreate, actor: StaffPrincipal, session: SessionDep
) -> WorkingHoursRead:
    created = await scheduling.add_working_hours(
        session=session, actor=actor, practitioner_id=practitioner_id, new=body
    )
    return WorkingHoursRead.model_validate(created)


@router.delete(HOURS + "/{hours_id}", status_code=204, summary="Remove a weekly block of working hours")
async def remove_working_hours(
    practitioner_id: uuid.UUID, hours_id: uuid.UUID, actor: StaffPrincipal, session: SessionDep
) -> Response:
    await scheduling.remove_working_hours(
        session=session, actor=actor, practitioner_id=practitioner_id, hours_id=hours_id
    )
    return Response(status_code=204)


@router.get(
    EXCEPTIONS, response_model=list[ScheduleExceptionRead], summary="A practitioner's leave and holidays"
)
async def list_schedule_exceptions(
    practitioner_id: uuid.UUID,
    actor: StaffPrincipal,
    session: SessionDep,
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
) -> list[ScheduleExceptionRead]:
    found = await scheduling.list_exceptions(
        session=session, actor=actor, practitioner_id=practitioner_id, start=start, end=end
    )
    return [ScheduleExceptionRead.model_validate(e) for e in found]


@router.post(
    EXCEPTIONS, status_code=201, response_model=ScheduleExceptionRead, summary="Mark a practitioner away"
)
async def add_schedule_exception(
    practitioner_id: uuid.UUID, body: ScheduleExceptionCreate, actor: StaffPrincipal, session: SessionDep
) -> ScheduleExceptionRead:
    created = await scheduling.add_exception(
        session=session, actor=actor, practitioner_id=practitioner_id, new=body
    )
    return ScheduleExceptionRead.model_validate(created)


@router.delete(EXCEPTIONS + "/{exception_id}", status_code=204, summary="Remove a schedule exception")
async def remove_schedule_exception(
    practitioner_id: uuid.UUID, exception_id: uuid.UUID, actor: StaffPrincipal, session: SessionDep
) -> Response:
    await scheduling.remove_exception(
        session=session, actor=actor, practitioner_id=practitioner_id, exception_id=exception_id
    )
    return Response(status_code=204)


@router.get("/slots", response_model=SlotList, summary="Free slots of an appointment type")
async def find_slots(
    actor: CurrentPrincipal,
    session: SessionDep,
    appointment_type: Annotated[str, Query(min_length=2, max_length=32)],
    start: AwareDatetime,
    end: AwareDatetime,
    practitioner_id: uuid.UUID | None = None,
    specialty: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=scheduling.MAX_SLOTS)] = 200,
) -> SlotList:
    return await scheduling.find_free_slots(
        session=session,
        actor=actor,
        appointment_type=appointment_type,
        start=start,
        end=end,
        practitioner_id=practitioner_id,
        specialty=specialty,
        limit=limit,
    )


@router.post("/appointments", status_code=201, response_model=AppointmentRead, summary="Book an appointment")
async def book_appointment(
    body: AppointmentCreate, actor: CurrentPrincipal, session: SessionDep
) -> AppointmentRead:
    return scheduling.appointment_read(
        await scheduling.book_appointment(session=session, actor=actor, booking=body)
    )


@router.get(
    "/appointments", response_model=Page[AppointmentRead], summary="Page through appointments by start time"
)
async def list_appointments(
    actor: CurrentPrincipal,
    session: SessionDep,
    patient_id: uuid.UUID | None = None,
    practitioner_id: uuid.UUID | None = None,
    status: Annotated[list[AppointmentStatus] | None, Query()] = None,
    start_from: AwareDatetime | None = None,
    start_to: AwareDatetime | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=scheduling.MAX_APPOINTMENT_PAGE_SIZE)] = 50,
) -> Page[AppointmentRead]:
    return await scheduling.list_appointments(
        session=session,
        actor=actor,
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        statuses=status or (),
        start_from=start_from,
        start_to=start_to,
        cursor=cursor,
        limit=limit,
    )


# Declared before /appointments/{appointment_id}, which would otherwise take "day-list" for an id.
@router.get(
    "/appointments/day-list",
    response_model=encounters.Agenda,
    summary="Every appointment of a period with patient and practitioner names (staff)",
)
async def day_list(
    actor: CurrentPrincipal,
    session: SessionDep,
    start: AwareDatetime,
    end: AwareDatetime,
    practitioner_id: uuid.UUID | None = None,
) -> encounters.Agenda:
    return await encounters.agenda(
        session=session, actor=actor, start=start, end=end, practitioner_id=practitioner_id
    )


@router.get("/appointments/{appointment_id}", response_model=AppointmentRead, summary="One appointment")
async def get_appointment(
    appointment_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep
) -> AppointmentRead:
    return scheduling.appointment_read(
        await scheduling.get_appointment(session=session, actor=actor, appointment_id=appointment_id)
    )


@router.post(
    "/appointments/{appointment_id}/reschedule",
    response_model=AppointmentRead,
    summary="Move to another slot",
)
async def reschedule_appointment(
    appointment_id: uuid.UUID, body: AppointmentReschedule, actor: CurrentPrincipal, session: SessionDep
) -> AppointmentRead:
    moved = await scheduling.reschedule_appointment(
        session=session, actor=actor, appointment_id=appointment_id, change=body
    )
    return scheduling.appointment_read(moved)


@router.post(
    "/appointments/{appointment_id}/cancel", response_model=AppointmentRead, summary="Cancel, with a reason"
)
async def cancel_appointment(
    appointment_id: uuid.UUID, body: AppointmentCancel, actor: CurrentPrincipal, session: SessionDep
) -> AppointmentRead:
    cancelled = await scheduling.cancel_appointment(
        session=session, actor=actor, appointment_id=appointment_id, cancel=body
    )
    return scheduling.appointment_read(cancelled)


async def _visit_step(
    session: SessionDep, actor: StaffPrincipal, appointment_id: uuid.UUID, action: Action
) -> AppointmentRead:
    changed = await scheduling.record_visit_step(
        session=session, actor=actor, appointment_id=appointment_id, action=action
    )
    return scheduling.appointment_read(changed)


@router.post(
    "/appointments/{appointment_id}/check-in", response_model=AppointmentRead, summary="The patient arrived"
)
async def check_in(appointment_id: uuid.UUID, actor: StaffPrincipal, session: SessionDep) -> AppointmentRead:
    return await _visit_step(session, actor, appointment_id, Action.CHECK_IN)


@router.post(
    "/appointments/{appointment_id}/start", response_model=AppointmentRead, summary="The visit started"
)
async def start(appointment_id: uuid.UUID, actor: StaffPrincipal, session: SessionDep) -> AppointmentRead:
    return await _visit_step(session, actor, appointment_id, Action.START)


@router.post(
    "/appointments/{appointment_id}/complete", response_model=AppointmentRead, summary="The visit is over"
)
async def complete(appointment_id: uuid.UUID, actor: StaffPrincipal, session: SessionDep) -> AppointmentRead:
    return await _visit_step(session, actor, appointment_id, Action.COMPLETE)


@router.post(
    "/appointments/{appointment_id}/no-show",
    response_model=AppointmentRead,
    summary="The patient did not come",
)
async def no_show(appointment_id: uuid.UUID, actor: StaffPrincipal, session: SessionDep) -> AppointmentRead:
    return await _visit_step(session, actor, appointment_id, Action.NO_SHOW)
