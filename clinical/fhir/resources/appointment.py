"""Appointment: booked visits, with the patient and the practitioner as participants."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from clinical.fhir.constants import APPOINTMENT_STATUS, SERVICE_TYPE
from clinical.fhir.provider import FhirContext, Rendered, TableProvider
from clinical.fhir.resources.common import concept, drop_empty, instant, meta, reference
from clinical.fhir.search.clauses import date_clause, patient_parameters, reference_clause, token_clause
from clinical.fhir.search.request import SearchParameter
from clinical.fhir.search.values import ParamType
from clinical.scheduling import Appointment, AppointmentMode, AppointmentStatus

# Our life cycle in FHIR's AppointmentStatus codes (http://hl7.org/fhir/appointmentstatus).
STATUS_TO_FHIR = MappingProxyType(
    {
        AppointmentStatus.BOOKED: "booked",
        AppointmentStatus.CHECKED_IN: "checked-in",
        AppointmentStatus.IN_PROGRESS: "arrived",
        AppointmentStatus.COMPLETED: "fulfilled",
        AppointmentStatus.CANCELLED: "cancelled",
        AppointmentStatus.NO_SHOW: "noshow",
    }
)
FHIR_TO_STATUS = MappingProxyType({fhir: ours for ours, fhir in STATUS_TO_FHIR.items()})
MODE_TEXT = MappingProxyType({AppointmentMode.IN_PERSON: "In person", AppointmentMode.VIDEO: "Video"})


class AppointmentProvider(TableProvider):
    resource_type = "Appointment"
    model = Appointment
    dated_by = Appointment.start_at
    order = (Appointment.start_at,)

    def patient_column(self) -> Any:
        return Appointment.patient_id

    def search_parameters(self) -> dict[str, SearchParameter]:
        return {
            **patient_parameters(Appointment.patient_id),
            "practitioner": SearchParameter(
                "practitioner",
                ParamType.REFERENCE,
                "The practitioner",
                reference_clause(Appointment.practitioner_id, resource_type="Practitioner"),
                target="Practitioner",
                column=Appointment.practitioner_id,
            ),
            "date": SearchParameter(
                "date",
                ParamType.DATE,
                "Start time (eq, ge, le, gt, lt)",
                date_clause(Appointment.start_at),
                sort=Appointment.start_at,
            ),
            "status": SearchParameter(
                "status",
                ParamType.TOKEN,
                "FHIR appointment status",
                token_clause(Appointment.status, system=APPOINTMENT_STATUS, mapping=FHIR_TO_STATUS),
            ),
        }

    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        return [Rendered(appointment_resource(row), row.patient_id) for row in rows]


def appointment_resource(appointment: Appointment) -> dict[str, Any]:
    """The FHIR Appointment of one appointment."""
    kind = appointment.appointment_type
    minutes = int((appointment.end_at - appointment.start_at).total_seconds() // 60)
    participants = [
        {"actor": reference("Patient", appointment.patient_id), "required": "required", "status": "accepted"},
        {
            "actor": reference("Practitioner", appointment.practitioner_id),
            "required": "required",
            "status": "accepted",
        },
    ]
    return drop_empty(
        {
            "resourceType": "Appointment",
            "id": str(appointment.id),
            "meta": meta(appointment),
            "status": STATUS_TO_FHIR[appointment.status],
            "cancelationReason": {"text": appointment.cancellation_reason}
            if appointment.cancellation_reason
            else None,
            "serviceCategory": [{"text": MODE_TEXT[kind.mode]}],
            "serviceType": [concept(SERVICE_TYPE, kind.code, kind.name)],
            "reasonCode": [{"text": appointment.reason}] if appointment.reason else [],
            "start": instant(appointment.start_at),
            "end": instant(appointment.end_at),
            "minutesDuration": minutes,
            "created": instant(appointment.created_at),
            "participant": participants,
        }
    )
