"""Names for the ids that administration pages show (the audit log's actors and patients)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentPrincipal, SessionDep
from clinical import directory

router = APIRouter(prefix="/directory", tags=["directory"])


@router.get("/names", response_model=directory.Names, summary="Names of users and patients by id (admin)")
async def names(
    actor: CurrentPrincipal,
    session: SessionDep,
    user_id: Annotated[list[uuid.UUID], Query(max_length=directory.MAX_IDS)] = [],  # noqa: B006 - FastAPI copies it
    patient_id: Annotated[list[uuid.UUID], Query(max_length=directory.MAX_IDS)] = [],  # noqa: B006
) -> directory.Names:
    return await directory.names(session=session, actor=actor, user_ids=user_id, patient_ids=patient_id)
