"""Every operation of the OpenAPI document, fuzzed by schemathesis as an administrator and as a patient:
no input may make the api answer 5xx.

Slow (a few minutes on two cores): `bin/test -m slow tests/api/test_fuzz_openapi.py`. It runs the
`st` command line against the app served over real HTTP on its own database, so what it creates and
breaks stays there. `OWNAT_FUZZ_EXAMPLES` sets the examples per operation (5 by default) and
`OWNAT_FUZZ_SEED` the seed (fixed, so a failure replays; change it to explore further). A failure
prints schemathesis's report with a `curl` line reproducing each 5xx.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api.app import create_app
from billing.payments.test_gateway import GatewayServer
from core.identity.models import Role
from core.settings import Settings
from ownat import migrate
from tests.builders import create_user, login_tokens
from tests.clinical.builders import create_patient_user
from tests.conftest import DatabaseFactory
from tests.web.conftest import serve

# The fuzzer runs every operation as two roles: about 20 minutes on two busy cores.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3 * 3600)]

MAX_EXAMPLES = int(os.environ.get("OWNAT_FUZZ_EXAMPLES", "5"))
SEED = int(os.environ.get("OWNAT_FUZZ_SEED", "15"))
# Operations that end the fuzzer's own session (it would test the rest signed out).
SESSION_ENDING = r"^/api/v1/auth/(logout|sign-out-everywhere|change-password)$"
# Generous: each answer is short, but the machine running the suite may be busy.
RUN_TIMEOUT_S = 3600


@pytest.fixture(scope="module")
async def fuzzed_app(databases: DatabaseFactory, settings: Settings) -> AsyncIterator[FastAPI]:
    """The app on a database of its own, with card payments on a loopback gateway (as in production:
    unconfigured, they answer 503) and tokens that outlast the run."""
    database_url = databases.create("fuzz")
    await asyncio.to_thread(migrate.upgrade, database_url)
    gateway = GatewayServer()
    await gateway.start()
    changed = settings.model_copy(
        update={
            "database_url": database_url,
            "access_token_ttl_s": 3600,
            "login_attempts_per_address": 10**6,
            "payment_gateway_url": gateway.url,
            "payment_gateway_secret_key": SecretStr(gateway.state.secret_key),
            "payment_webhook_secret": SecretStr(gateway.state.webhook_secret),
        }
    )
    application = create_app(changed)
    try:
        async with application.router.lifespan_context(application):
            yield application
    finally:
        await gateway.stop()


async def _token(app: FastAPI, base_url: str, role: Role) -> str:
    sessions = app.state.resources.sessions
    if role is Role.PATIENT:
        user, _, password = await create_patient_user(sessions)
    else:
        user, password = await create_user(sessions, role=role)
    async with httpx.AsyncClient(base_url=base_url) as client:
        return (await login_tokens(client, user.email, password))["access_token"]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PATIENT])
async def test_no_input_makes_the_api_fail(fuzzed_app: FastAPI, role: Role, tmp_path: Path) -> None:
    async with serve(fuzzed_app) as server:
        token = await _token(fuzzed_app, server.url, role)
        command = [
            str(Path(sys.executable).with_name("st")),
            "run",
            f"{server.url}/api/v1/openapi.json",
            "--checks=not_a_server_error",
            f"--header=Authorization: Bearer {token}",
            f"--max-examples={MAX_EXAMPLES}",
            f"--seed={SEED}",
            "--phases=examples,coverage,fuzzing",
            f"--exclude-path-regex={SESSION_ENDING}",
            # One worker: schemathesis's threads can trip over each other in Python 3.11's ast module.
            "--workers=1",
            "--request-timeout=30",
            "--generation-database=none",
            "--suppress-health-check=all",
            "--no-color",
            f"--report-dir={tmp_path}",
        ]
        # A subprocess, awaited: the server answers on this event loop meanwhile.
        process = await asyncio.create_subprocess_exec(
            # In tmp_path: schemathesis keeps a cache in its working directory.
            *command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=tmp_path,
        )
        output, _ = await asyncio.wait_for(process.communicate(), timeout=RUN_TIMEOUT_S)
    report = output.decode(errors="replace")
    (tmp_path / "report.txt").write_text(report)
    print(f"schemathesis as {role.value}:", *report.splitlines()[-12:], sep="\n")  # shown with -s
    assert process.returncode == 0, f"schemathesis as {role.value} found 5xx answers:\n{report[-20000:]}"
