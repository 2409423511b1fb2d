"""Condition: the patient's problem list and the diagnoses made in encounters, coded in ICD-10 (WHO)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, false, select

from clinical.encounters import Diagnosis, Encounter
from clinical.fhir.composite import CompositeProvider
from clinical.fhir.constants import CONDITION_CATEGORY, CONDITION_CLINICAL, CONDITION_VERIFICATION, ICD10
from clinical.fhir.provider import FhirContext, Rendered, TableProvider
from clinical.fhir.resources.common import concept, day, drop_empty, instant, meta, reference
from clinical.fhir.search.clauses import patient_parameters, token_clause
from clinical.fhir.search.request import SearchParameter
from clinical.fhir.search.values import ParamType
from clinical.patients import Condition, ConditionStatus
from core.principal import Principal

CONFIRMED = {"verificationStatus": concept(CONDITION_VERIFICATION, "confirmed")}


def _parameters(patient: Any, code: Any, status: Any) -> dict[str, SearchParameter]:
    return {
        **patient_parameters(patient),
        "code": SearchParameter("code", ParamType.TOKEN, f"ICD-10 code ({ICD10})", code),
        "clinical-status": SearchParameter("clinical-status", ParamType.TOKEN, "Clinical status", status),
    }


class ProblemListSource(TableProvider):
    resource_type = "Condition"
    model = Condition
    dated_by = Condition.created_at
    order = (Condition.created_at,)

    def patient_column(self) -> Any:
        return Condition.patient_id

    def base_query(self, principal: Principal) -> Select[Any]:
        # Entries removed as entered in error are not part of the record any more.
        return select(Condition).where(Condition.clinical_status != ConditionStatus.ENTERED_IN_ERROR)

    def search_parameters(self) -> dict[str, SearchParameter]:
        return _parameters(
            Condition.patient_id,
            token_clause(Condition.icd10_code, system=ICD10),
            token_clause(Condition.clinical_status, system=CONDITION_CLINICAL),
        )

    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        return [Rendered(problem_resource(row), row.patient_id) for row in rows]


def _encounter_patient() -> Any:
    return select(Encounter.patient_id).where(Encounter.id == Diagnosis.encounter_id).scalar_subquery()


def _no_status(values: list[Any]) -> ColumnElement[bool]:
    # Encounter diagnoses carry no clinical status, so a status criterion matches none of them.
    return false()


class DiagnosisSource(TableProvider):
    resource_type = "Condition"
    model = Diagnosis
    dated_by = Diagnosis.created_at
    order = (Diagnosis.created_at, Diagnosis.rank)

    def patient_column(self) -> Any:
        return _encounter_patient()

    def search_parameters(self) -> dict[str, SearchParameter]:
        return _parameters(_encounter_patient(), token_clause(Diagnosis.code, system=ICD10), _no_status)

    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        patients: dict[Any, Any] = {}
        if rows:
            found = await ctx.session.execute(
                select(Encounter.id, Encounter.patient_id).where(
                    Encounter.id.in_({r.encounter_id for r in rows})
                )
            )
            patients = {row.id: row.patient_id for row in found}
        return [
            Rendered(diagnosis_resource(row, patients[row.encounter_id]), patients[row.encounter_id])
            for row in rows
        ]


class ConditionProvider(CompositeProvider):
    resource_type = "Condition"
    documentation = "Problem-list items (patient record) and encounter diagnoses (ICD-10, WHO 2019)."
    sources = (ProblemListSource, DiagnosisSource)


def problem_resource(condition: Condition) -> dict[str, Any]:
    """A problem-list Condition."""
    return drop_empty(
        {
            "resourceType": "Condition",
            "id": str(condition.id),
            "meta": meta(condition),
            "clinicalStatus": concept(CONDITION_CLINICAL, condition.clinical_status.value),
            **CONFIRMED,
            "category": [concept(CONDITION_CATEGORY, "problem-list-item", "Problem List Item")],
            "code": concept(ICD10, condition.icd10_code, condition.display),
            "subject": reference("Patient", condition.patient_id),
            "onsetDateTime": day(condition.onset_date),
            "abatementDateTime": day(condition.abatement_date),
            "recordedDate": instant(condition.created_at),
            "note": [{"text": condition.note}] if condition.note else [],
        }
    )


def diagnosis_resource(diagnosis: Diagnosis, patient_id: Any) -> dict[str, Any]:
    """An encounter-diagnosis Condition (rank 1 is the primary diagnosis)."""
    return drop_empty(
        {
            "resourceType": "Condition",
            "id": str(diagnosis.id),
            "meta": meta(diagnosis),
            **CONFIRMED,
            "category": [concept(CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis")],
            "code": concept(ICD10, diagnosis.code, diagnosis.display),
            "subject": reference("Patient", patient_id),
            "encounter": reference("Encounter", diagnosis.encounter_id),
            "recordedDate": instant(diagnosis.created_at),
            "note": [
                {"text": "Primary diagnosis" if diagnosis.rank == 1 else f"Diagnosis rank {diagnosis.rank}"}
            ],
        }
    )
