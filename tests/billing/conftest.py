"""Billing fixtures: an app wired to a loopback card gateway, people by role, the fee schedule."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from billing.payments.test_gateway import GatewayServer, GatewayState
from core.principal import Role
from core.settings import Settings
from tests.billing.builders import FeeSchedule, standard_fee_schedule
from tests.builders import http_client
from tests.clinical.encounter_builders import People


@pytest.fixture(scope="session")
async def gateway_server() -> AsyncIterator[GatewayServer]:
    server = GatewayServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def gateway(gateway_server: GatewayServer) -> GatewayState:
    """The gateway's state, with the switches of earlier tests reset."""
    gateway_server.state.lose_next_answer = False
    gateway_server.state.settle_later = False
    return gateway_server.state


@pytest.fixture(scope="session")
async def billing_app(settings: Settings, gateway_server: GatewayServer) -> AsyncIterator[FastAPI]:
    """The app with card payments configured against the loopback gateway."""
    state = gateway_server.state
    application = create_app(
        settings.model_copy(
            update={
                "payment_gateway_url": gateway_server.url,
                "payment_gateway_secret_key": SecretStr(state.secret_key),
                "payment_webhook_secret": SecretStr(state.webhook_secret),
            }
        )
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
def billing_sessions(billing_app: FastAPI) -> async_sessionmaker[AsyncSession]:
    return billing_app.state.resources.sessions


@pytest.fixture(scope="session")
async def fee_schedule(billing_sessions: async_sessionmaker[AsyncSession]) -> FeeSchedule:
    return await standard_fee_schedule(billing_sessions)


@pytest.fixture
async def billing_client(billing_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(billing_app) as client:
        yield client


@pytest.fixture
def people(billing_sessions: async_sessionmaker[AsyncSession], settings: Settings) -> People:
    return People(sessions=billing_sessions, settings=settings)


@pytest.fixture
async def clerk(people: People) -> dict[str, str]:
    """Headers of a billing clerk."""
    return (await people.staff(Role.BILLING)).headers
