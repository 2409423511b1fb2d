"""Live session state on the embedded default (SQLite, no Redis, the in-process bus): the same
generations end a deactivated or demoted user's tokens at once, with state kept in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from api.app import create_app
from core.principal import Role
from core.settings import Settings
from ownat import migrate
from tests.builders import bearer, create_user, http_client, login, login_tokens

pytestmark = pytest.mark.embedded


@pytest.fixture
async def embedded_app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    settings = Settings(_env_file=None, environment="test", data_dir=tmp_path, log_json=False)  # type: ignore[call-arg]
    await migrate.upgrade_async(settings.effective_database_url)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def test_deactivation_and_demotion_end_tokens_at_once_on_sqlite(embedded_app: FastAPI) -> None:
    sessions = embedded_app.state.resources.sessions
    admin, admin_password = await create_user(sessions, role=Role.ADMIN)
    nurse, nurse_password = await create_user(sessions, role=Role.NURSE)
    demoted, demoted_password = await create_user(sessions, role=Role.ADMIN)
    async with http_client(embedded_app) as client:
        headers = await login(client, admin.email, admin_password)
        nurse_token = (await login_tokens(client, nurse.email, nurse_password))["access_token"]
        demoted_token = (await login_tokens(client, demoted.email, demoted_password))["access_token"]
        for token in (nurse_token, demoted_token):
            assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200

        await client.patch(f"/api/v1/users/{nurse.id}", json={"is_active": False}, headers=headers)
        await client.patch(f"/api/v1/users/{demoted.id}", json={"role": "clinician"}, headers=headers)

        assert (await client.get("/api/v1/auth/me", headers=bearer(nurse_token))).status_code == 401
        assert (await client.get("/api/v1/users", headers=bearer(demoted_token))).status_code == 401
