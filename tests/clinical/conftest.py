"""Fixtures of the clinical tests: headers of signed-in staff by role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.principal import Role
from tests.builders import signed_in

HeadersFor = Callable[[Role], Awaitable[dict[str, str]]]


@pytest.fixture
def headers_for(client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> HeadersFor:
    """`await headers_for(Role.NURSE)`: the headers of a new user of that role."""

    async def make(role: Role) -> dict[str, str]:
        _, headers = await signed_in(client, sessions, role)
        return headers

    return make
