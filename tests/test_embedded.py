"""The embedded default as a newcomer runs it: a real subprocess, no services configured."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.ports import free_port

pytestmark = pytest.mark.embedded

START_TIMEOUT_S = 60


@dataclass
class EmbeddedProcess:
    process: subprocess.Popen[str]
    base_url: str
    data_dir: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text()


@contextmanager
def start_embedded(data_dir: Path, **extra_env: str) -> Iterator[EmbeddedProcess]:
    """`ownat dev` on free ports, with every OWNAT_ variable removed from its environment but `extra_env`."""
    http_port, mqtt_port, mllp_port = free_port(), free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("OWNAT_")}
    env.update(OWNAT_DATA_DIR=str(data_dir), OWNAT_EMBEDDED_MQTT_PORT=str(mqtt_port), OWNAT_LOG_JSON="false")
    env.update(OWNAT_EMBEDDED_MLLP_PORT=str(mllp_port))
    env.update(extra_env)
    log_path = data_dir / "process.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "ownat.cli", "dev", "--port", str(http_port)],
            env=env,
            cwd=data_dir,  # no .env of the developer's can leak in
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
        )
    running = EmbeddedProcess(process, f"http://127.0.0.1:{http_port}", data_dir, log_path)
    try:
        yield running
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedProcess]:
    """`ownat dev` as a newcomer starts it: no OWNAT_ variables but the data directory and port."""
    with start_embedded(tmp_path_factory.mktemp("embedded")) as running:
        yield running


async def _wait_ready(embedded: EmbeddedProcess) -> httpx.Response:
    async with httpx.AsyncClient(base_url=embedded.base_url) as http:
        async with asyncio.timeout(START_TIMEOUT_S):
            while True:
                assert embedded.process.poll() is None, f"ownat dev exited early:\n{embedded.log()}"
                try:
                    response = await http.get("/readyz")
                    if response.status_code == 200:
                        return response
                except httpx.TransportError:
                    pass  # not listening yet
                await asyncio.sleep(0.2)


async def test_embedded_mode_starts_and_is_ready(embedded: EmbeddedProcess) -> None:
    response = await _wait_ready(embedded)
    assert response.json()["checks"] == {"database": "ok", "bus": "ok", "broker": "ok"}
    assert (embedded.data_dir / "ownat.sqlite3").exists()
    # The banner is printed by a task of its own once uvicorn has started, which on a loaded machine
    # may come a moment after the first answer to /readyz.
    port = embedded.base_url.rsplit(":", 1)[1]
    async with asyncio.timeout(START_TIMEOUT_S):
        while port not in embedded.log():  # noqa: ASYNC110 - a log file offers no event to wait on
            await asyncio.sleep(0.2)


async def test_embedded_mode_serves_the_demo_accounts(embedded: EmbeddedProcess) -> None:
    await _wait_ready(embedded)
    from ownat.demo import DEMO_ACCOUNTS

    account = DEMO_ACCOUNTS[0]
    assert account.email in embedded.log()
    async with httpx.AsyncClient(base_url=embedded.base_url) as http:
        login = await http.post(
            "/api/v1/auth/login", json={"email": account.email, "password": account.password}
        )
        assert login.status_code == 200, login.text
        me = await http.get(
            "/api/v1/auth/me", headers={"authorization": f"Bearer {login.json()['access_token']}"}
        )
    assert me.status_code == 200 and me.json()["role"] == account.role.value


async def test_embedded_mode_seals_the_audit_log_and_checks_it_against_a_checkpoint(
    embedded: EmbeddedProcess,
) -> None:
    from ownat.demo import DEMO_ACCOUNTS

    admin = next(account for account in DEMO_ACCOUNTS if account.role.value == "admin")
    await _wait_ready(embedded)
    async with httpx.AsyncClient(base_url=embedded.base_url) as http:
        login = await http.post("/api/v1/auth/login", json={"email": admin.email, "password": admin.password})
        headers = {"authorization": f"Bearer {login.json()['access_token']}"}
        async with asyncio.timeout(START_TIMEOUT_S):
            # The embedded sequencer seals every second; the process cannot tell us when it has.
            while (await http.get("/api/v1/audit/verify", headers=headers)).json()["head"]["sequence"] == 0:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        checkpoint = (await http.get("/api/v1/audit/checkpoint", headers=headers)).json()
        report = (await http.post("/api/v1/audit/verify", json=checkpoint, headers=headers)).json()
    assert report["ok"] is True, report["reason"]
    assert report["checked"] > 100 and report["checkpoint_sequence"] == checkpoint["sequence"]


async def test_a_newcomer_signs_up_with_the_development_mailbox(embedded: EmbeddedProcess) -> None:
    await _wait_ready(embedded)
    email, password = "newcomer@example.org", "Seven-Green-Lanterns-4"
    async with httpx.AsyncClient(base_url=embedded.base_url) as http:
        signed_up = await http.post(
            "/api/v1/auth/register", json={"email": email, "password": password, "full_name": "Nova Newcomer"}
        )
        assert signed_up.status_code == 202, signed_up.text
        # The embedded worker "sends" it within a pass or two (a second each); another process
        # cannot signal us, so we look again until it is there.
        async with asyncio.timeout(START_TIMEOUT_S):
            while True:
                messages = (await http.get("/dev/mail/messages")).json()
                mail = [m for m in messages if m["address"] == email]
                if mail:
                    break
                await asyncio.sleep(0.2)
        token = mail[0]["body"].split("#token=", 1)[1].split()[0]
        assert (await http.post("/api/v1/auth/verify-email", json={"token": token})).status_code == 200
        login = await http.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200, login.text
        page = await http.get("/dev/mail/")
    assert page.status_code == 200 and "Development mailbox" in page.text
    assert f"development mailbox: email to {email}" in embedded.log()


async def test_the_demo_patient_has_a_video_visit_whose_room_is_open_whatever_the_hour(
    embedded: EmbeddedProcess,
) -> None:
    await _wait_ready(embedded)
    from core.principal import Role
    from ownat.demo.accounts import account

    patient = account(Role.PATIENT)
    now = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=embedded.base_url) as http:
        login = await http.post(
            "/api/v1/auth/login", json={"email": patient.email, "password": patient.password}
        )
        visits = await http.get(
            "/api/v1/consults/visits",
            params={
                "start_from": (now - timedelta(hours=2)).isoformat(),
                "start_to": (now + timedelta(hours=2)).isoformat(),
            },
            headers={"authorization": f"Bearer {login.json()['access_token']}"},
        )
    assert visits.status_code == 200, visits.text
    open_now = [v for v in visits.json()["visits"] if v["state"] == "open"]
    assert open_now and open_now[0]["practitioner_name"] == "Dr Casey Morgan", visits.json()


async def test_the_demo_smart_app_completes_a_launch_on_sqlite(embedded: EmbeddedProcess) -> None:
    await _wait_ready(embedded)
    from ownat.demo import DEMO_ACCOUNTS
    from ownat.demo.smart_app import DEMO_CLIENT_ID
    from tests.smart.smart_support import pkce_pair, query_of

    clinician = next(a for a in DEMO_ACCOUNTS if a.role.value == "clinician")
    redirect_uri = f"{embedded.base_url}/dev/smart-app/"
    async with httpx.AsyncClient(base_url=embedded.base_url) as http:
        assert (await http.get("/dev/smart-app/")).status_code == 200
        login = await http.post(
            "/api/v1/auth/login", json={"email": clinician.email, "password": clinician.password}
        )
        staff = {"authorization": f"Bearer {login.json()['access_token']}"}
        patient = (await http.get("/api/v1/patients", params={"limit": 1}, headers=staff)).json()["items"][0]
        verifier, challenge = pkce_pair()
        started = await http.get(
            "/oauth/authorize",
            params={
                "response_type": "code",
                "client_id": DEMO_CLIENT_ID,
                "redirect_uri": redirect_uri,
                "scope": "launch/patient patient/Patient.rs openid fhirUser offline_access",
                "state": "s",
                "aud": f"{embedded.base_url}/fhir/R4",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )
        request_id = query_of(started.headers["location"])["request"]
        approved = await http.post(
            f"/api/v1/smart/authorizations/{request_id}/approve",
            json={"patient_id": patient["id"]},
            headers=staff,
        )
        code = query_of(approved.json()["redirect_to"])["code"]
        tokens = await http.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": DEMO_CLIENT_ID,
                "code_verifier": verifier,
            },
        )
        assert tokens.status_code == 200, tokens.text
        body = tokens.json()
        assert body["patient"] == patient["id"] and "id_token" in body and "refresh_token" in body
        read = await http.get(
            f"/fhir/R4/Patient/{patient['id']}", headers={"authorization": f"Bearer {body['access_token']}"}
        )
        assert read.status_code == 200
