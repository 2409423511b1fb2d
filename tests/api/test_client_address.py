"""Who the client is: only OWNAT_TRUSTED_PROXY_HOPS may let a header speak for the socket's address.

Run through a real uvicorn configured as `ownat api` configures it, because uvicorn's own default
(trusting X-Forwarded-For from 127.0.0.1) is what let a forged header through.
"""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit.models import AuditEvent
from core.settings import Settings
from ownat.uvicorn_config import uvicorn_config
from tests.api.served import served
from tests.builders import unique_email


def test_the_api_command_ignores_proxy_headers() -> None:
    config = uvicorn_config(object(), host="127.0.0.1", port=8000)
    assert config.proxy_headers is False
    assert config.forwarded_allow_ips == ""


async def test_a_forged_forwarded_for_neither_escapes_the_login_limit_nor_reaches_the_audit_log(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    limited = settings.model_copy(update={"login_attempts_per_address": 3, "trusted_proxy_hops": 0})
    emails = [unique_email("forged") for _ in range(4)]
    async with served(limited) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        statuses = []
        for number, email in enumerate(emails):
            response = await client.post(
                "/api/v1/auth/login",
                json={"email": email, "password": "not the password"},
                # A new address each time: with the header trusted, none would reach the limit.
                headers={"X-Forwarded-For": f"192.0.2.{number + 1}"},
            )
            statuses.append(response.status_code)
    assert statuses == [401, 401, 401, 429]
    async with sessions() as session:
        addresses = set(
            await session.scalars(
                select(AuditEvent.client_address).where(
                    AuditEvent.action == "login", AuditEvent.detail["email"].as_string().in_(emails)
                )
            )
        )
    assert addresses == {"127.0.0.1"}


async def test_a_trusted_proxy_hop_names_the_client(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    behind_proxy = settings.model_copy(update={"trusted_proxy_hops": 1})
    email = unique_email("proxied")
    async with served(behind_proxy) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post(
            "/api/v1/auth/login",
            json={"email": email, "password": "not the password"},
            # The leftmost entry is the client's own claim; the proxy appended the address it saw.
            headers={"X-Forwarded-For": f"192.0.2.77, 198.51.100.{uuid.uuid4().int % 250 + 1}"},
        )
    assert response.status_code == 401
    async with sessions() as session:
        address = await session.scalar(
            select(AuditEvent.client_address).where(
                AuditEvent.action == "login", AuditEvent.detail["email"].as_string() == email
            )
        )
    assert address is not None and address.startswith("198.51.100.")
