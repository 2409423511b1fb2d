"""MedicationRequest: prescriptions, with structured dose, route, frequency and duration."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from clinical.encounters import DoseUnit, Prescription, Route
from clinical.fhir.constants import MEDICATION_REQUEST_STATUS, SNOMED, UCUM
from clinical.fhir.provider import FhirContext, Rendered, TableProvider
from clinical.fhir.resources.common import concept, drop_empty, instant, meta, number, reference
from clinical.fhir.search.clauses import patient_parameters, token_clause
from clinical.fhir.search.request import SearchParameter
from clinical.fhir.search.values import ParamType

# SNOMED CT route-of-administration concepts (FHIR's route codes value set).
ROUTE_CODES = MappingProxyType(
    {
        Route.ORAL: ("26643006", "Oral route"),
        Route.SUBLINGUAL: ("37839007", "Sublingual route"),
        Route.BUCCAL: ("54471007", "Buccal route"),
        Route.IV: ("47625008", "Intravenous route"),
        Route.IM: ("78421000", "Intramuscular route"),
        Route.SC: ("34206005", "Subcutaneous route"),
        Route.INTRADERMAL: ("372464004", "Intradermal route"),
        Route.INHALED: ("447694001", "Respiratory tract route"),
        Route.NASAL: ("46713006", "Nasal route"),
        Route.TOPICAL: ("6064005", "Topical route"),
        Route.TRANSDERMAL: ("45890007", "Transdermal route"),
        Route.OPHTHALMIC: ("54485002", "Ophthalmic route"),
        Route.OTIC: ("10547007", "Otic route"),
        Route.RECTAL: ("37161004", "Rectal route"),
        Route.VAGINAL: ("16857009", "Vaginal route"),
    }
)
# Units of measured amounts are UCUM codes; countable forms (tablet, puff, ...) are plain units.
UCUM_UNITS = frozenset(
    {DoseUnit.MG, DoseUnit.G, DoseUnit.MCG, DoseUnit.ML, DoseUnit.L, DoseUnit.IU, DoseUnit.MMOL}
)


class MedicationRequestProvider(TableProvider):
    resource_type = "MedicationRequest"
    model = Prescription
    dated_by = Prescription.created_at
    order = (Prescription.created_at,)

    def patient_column(self) -> Any:
        return Prescription.patient_id

    def search_parameters(self) -> dict[str, SearchParameter]:
        return {
            **patient_parameters(Prescription.patient_id),
            "status": SearchParameter(
                "status",
                ParamType.TOKEN,
                "active, completed, cancelled or stopped",
                token_clause(Prescription.status, system=MEDICATION_REQUEST_STATUS),
            ),
        }

    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        return [Rendered(medication_request_resource(row), row.patient_id) for row in rows]


def _dosage(prescription: Prescription) -> dict[str, Any]:
    unit = prescription.dose_unit
    dose = drop_empty(
        {
            "value": number(prescription.dose_quantity),
            "unit": unit.value,
            "system": UCUM if unit in UCUM_UNITS else None,
            "code": unit.value if unit in UCUM_UNITS else None,
        }
    )
    route_code, route_display = ROUTE_CODES[prescription.route]
    every = f"{prescription.frequency_count} time(s) every {prescription.frequency_period} {prescription.frequency_period_unit.value}"
    return drop_empty(
        {
            "text": f"{number(prescription.dose_quantity)} {unit.value} {prescription.route.value}, {every}",
            "patientInstruction": prescription.instructions,
            "timing": {
                "repeat": drop_empty(
                    {
                        "frequency": prescription.frequency_count,
                        "period": prescription.frequency_period,
                        "periodUnit": prescription.frequency_period_unit.value,
                        "boundsDuration": _days(prescription.duration_days),
                    }
                )
            },
            "asNeededBoolean": prescription.as_needed,
            "route": concept(SNOMED, route_code, route_display),
            "doseAndRate": [{"doseQuantity": dose}],
        }
    )


def _days(days: int | None) -> dict[str, Any] | None:
    return {"value": days, "unit": "d", "system": UCUM, "code": "d"} if days else None


def medication_request_resource(prescription: Prescription) -> dict[str, Any]:
    """The FHIR MedicationRequest of one prescription."""
    return drop_empty(
        {
            "resourceType": "MedicationRequest",
            "id": str(prescription.id),
            "meta": meta(prescription),
            "status": prescription.status.value,
            "statusReason": {"text": prescription.status_reason} if prescription.status_reason else None,
            "intent": "order",
            "medicationReference": reference("Medication", prescription.id, prescription.medication_name),
            "subject": reference("Patient", prescription.patient_id),
            "encounter": reference("Encounter", prescription.encounter_id),
            "authoredOn": instant(prescription.prescribed_at),
            "requester": reference("Practitioner", prescription.prescriber_id),
            "dosageInstruction": [_dosage(prescription)],
            "dispenseRequest": {"expectedSupplyDuration": _days(prescription.duration_days)}
            if prescription.duration_days
            else None,
        }
    )
