"""Test data builders: users created through the service, signed-in clients, clients from an address."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.identity import service
from core.identity.models import User
from core.identity.schemas import PatientRegistration, StaffCreate
from core.principal import SYSTEM, Role
from core.sessions import transaction
from core.settings import Settings

# The default policy: builders do not see the app's settings, and tests do not change this one.
PASSWORD_MIN_LENGTH: int = Settings.model_fields["password_min_length"].default


def unique_email(label: str = "user") -> str:
    """An address no other test uses."""
    return f"{label}-{secrets.token_hex(6)}@example.org"


# Digits and a few letters no name is made of: a random password can then never contain the user's
# name or email address, which the policy refuses (with "Test Nurse" and any alphabet, 1 in ~10^5).
_PASSWORD_ALPHABET = "0123456789QXZJqxzj-_"


def strong_password() -> str:
    """A random password that passes the policy, whoever the user is."""
    return "Pw-" + "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(24))


async def create_user(
    sessions: async_sessionmaker[AsyncSession],
    *,
    role: Role,
    email: str | None = None,
    password: str | None = None,
    full_name: str | None = None,
) -> tuple[User, str]:
    """Creates a user through the service in a transaction of its own; returns it and its password."""
    email = email or unique_email(role.value)
    password = password or strong_password()
    full_name = full_name or f"Test {role.value.title()}"
    async with transaction(sessions) as session:
        if role is Role.PATIENT:
            registration = PatientRegistration(email=email, password=password, full_name=full_name)
            user = await service.register_patient(
                session=session, registration=registration, password_min_length=PASSWORD_MIN_LENGTH
            )
        else:
            staff = StaffCreate(email=email, password=password, full_name=full_name, role=role)
            user = await service.create_staff_user(
                session=session, actor=SYSTEM, staff=staff, password_min_length=PASSWORD_MIN_LENGTH
            )
    return user, password


async def login_tokens(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    """The token pair of a successful login (fails the test otherwise)."""
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


async def login(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    """Authorization headers of a fresh login."""
    return bearer((await login_tokens(client, email, password))["access_token"])


async def signed_in(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], role: Role
) -> tuple[User, dict[str, str]]:
    """A new user of `role` and the headers of their session."""
    user, password = await create_user(sessions, role=role)
    return user, await login(client, user.email, password)


@asynccontextmanager
async def http_client(app: FastAPI, *, address: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `app` whose requests come from `address` (a random documentation address if none)."""
    address = address or f"203.0.113.{secrets.randbelow(254) + 1}"
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://ownat.test") as client:
        yield client
