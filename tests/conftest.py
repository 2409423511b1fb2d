"""Fixtures shared by the whole suite: real PostgreSQL, Redis and Mosquitto, isolated per run.

Each run creates its own PostgreSQL database and uses its own Redis key prefix and MQTT topic
root, so two runs on one machine never collide; everything is removed at the end.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import psycopg
import pytest
import redis
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from core.resources import Resources
from core.settings import Settings
from ownat import migrate

POSTGRES_ADMIN_URL = os.environ.get(
    "OWNAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("OWNAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MQTT_URL = os.environ.get("OWNAT_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


@pytest.fixture(scope="session")
def test_run_id() -> str:
    """Short random id naming this run's database, key prefix and topic root."""
    return secrets.token_hex(4)


@pytest.fixture(scope="session")
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture(scope="session")
def redis_prefix(test_run_id: str) -> str:
    return f"ownat-test-{test_run_id}:"


@pytest.fixture(scope="session")
def mqtt_url() -> str:
    return MQTT_URL


@pytest.fixture(scope="session", autouse=True)
def _clean_redis_keys(redis_url: str, redis_prefix: str) -> Iterator[None]:
    """Removes every key this run created, whatever the tests left behind."""
    yield
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{redis_prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


class DatabaseFactory:
    """Creates empty PostgreSQL databases named after the run and drops them all at the end."""

    def __init__(self, run_id: str) -> None:
        self._url = make_url(POSTGRES_ADMIN_URL)
        self._admin_dsn = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._run_id = run_id
        self._names: list[str] = []

    def create(self, purpose: str) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        name = f"ownat_test_{self._run_id}_{purpose}"
        with psycopg.connect(self._admin_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        self._names.append(name)
        return self._url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with psycopg.connect(self._admin_dsn, autocommit=True) as admin:
            for name in self._names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def databases(test_run_id: str) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(test_run_id)
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def postgres_url(databases: DatabaseFactory) -> str:
    """This run's main database, migrated to head."""
    database_url = databases.create("main")
    migrate.upgrade(database_url)
    return database_url


@pytest.fixture(scope="session")
def settings(
    postgres_url: str, redis_url: str, redis_prefix: str, mqtt_url: str, tmp_path_factory
) -> Settings:
    """Settings of the app under test: the real services, this run's database and key prefix."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path_factory.mktemp("ownat-data"),
        database_url=postgres_url,
        redis_url=redis_url,
        redis_key_prefix=redis_prefix,
        mqtt_url=mqtt_url,
        secret_key=secrets.token_urlsafe(48),
        log_json=False,
        # Every browser test signs in from 127.0.0.1, so a whole run would pass the address's limit;
        # the limit itself is tested on apps of its own (tests/api/test_auth.py).
        login_attempts_per_address=10_000,
        # Most tests run no alarm evaluator: the hubs must not declare alarm evaluation stopped in the
        # middle of them. The watchdog's own tests use apps with a short one (tests/realtime/test_alarm_watch.py).
        alarm_watchdog_s=3600,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
def resources(app: FastAPI) -> Resources:
    return app.state.resources  # type: ignore[no-any-return]


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client against the app, from an address of its own (login limits count per address)."""
    address = f"198.51.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://ownat.test") as http:
        yield http


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
