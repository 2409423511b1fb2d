"""Fixtures for the API tests: the sessions of the app under test and apps with other settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from core.resources import Resources
from core.settings import Settings

AppFactory = Callable[..., AbstractAsyncContextManager[FastAPI]]


@pytest.fixture
def sessions(resources: Resources) -> async_sessionmaker[AsyncSession]:
    """Sessions on the app's database, for builders and for looking underneath the API."""
    return resources.sessions


@pytest.fixture
def app_with(settings: Settings) -> AppFactory:
    """Starts another app on the same services with some settings changed, e.g. lower limits."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[FastAPI]:
        application = create_app(settings.model_copy(update=overrides))
        async with application.router.lifespan_context(application):
            yield application

    return start
