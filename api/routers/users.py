"""User administration: staff accounts, roles and deactivation. Administrators only."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import AdminPrincipal, SessionDep, SettingsDep, require_roles
from core import identity
from core.identity import StaffCreate, UserRead, UserUpdate
from core.paging import Page
from core.principal import Role

router = APIRouter(prefix="/users", tags=["users"], dependencies=[Depends(require_roles(Role.ADMIN))])


@router.post("", status_code=201, response_model=UserRead, summary="Create a staff account")
async def create_user(
    body: StaffCreate, actor: AdminPrincipal, session: SessionDep, settings: SettingsDep
) -> UserRead:
    user = await identity.create_staff_user(
        session=session, actor=actor, staff=body, password_min_length=settings.password_min_length
    )
    return UserRead.model_validate(user)


@router.get("", response_model=Page[UserRead], summary="Page through users in creation order")
async def list_users(
    actor: AdminPrincipal,
    session: SessionDep,
    role: Role | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=identity.MAX_PAGE_SIZE)] = 50,
) -> Page[UserRead]:
    return await identity.list_users(session=session, actor=actor, role=role, cursor=cursor, limit=limit)


@router.get("/{user_id}", response_model=UserRead, summary="One user")
async def get_user(user_id: uuid.UUID, actor: AdminPrincipal, session: SessionDep) -> UserRead:
    return UserRead.model_validate(await identity.get_user(session=session, actor=actor, user_id=user_id))


@router.patch("/{user_id}", response_model=UserRead, summary="Change a user's name, role or active flag")
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, actor: AdminPrincipal, session: SessionDep
) -> UserRead:
    user = await identity.update_user(session=session, actor=actor, user_id=user_id, changes=body)
    return UserRead.model_validate(user)
