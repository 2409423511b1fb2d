"""Code look-ups for the forms that record coded data: ICD-10 by code or by words of its description.

Codes are public reference data, not patient data: any signed-in user may search, nothing is audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import CurrentPrincipal
from clinical.codes import search_icd10

router = APIRouter(prefix="/codes", tags=["codes"])


class Icd10Read(BaseModel):
    code: str
    display: str
    is_leaf: bool


@router.get("/icd10", response_model=list[Icd10Read], summary="Search ICD-10 by code or description")
async def find_icd10(
    _: CurrentPrincipal,
    q: Annotated[str, Query(min_length=1, max_length=100, description="'E11', 'e119' or 'diab type 2'")],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> list[Icd10Read]:
    return [
        Icd10Read(code=e.code, display=e.display, is_leaf=e.is_leaf)
        for e in await search_icd10(q, limit=limit)
    ]
