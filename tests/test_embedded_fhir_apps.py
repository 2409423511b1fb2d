"""`ownat dev` as a newcomer tries FHIR apps: a websocket subscription hears the demo ward's simulated
monitors, and an administrator exports the ward (a Group) with the embedded worker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect

from ownat.demo import DEMO_ACCOUNTS
from tests.fhir.conftest import validate_resource
from tests.fhir.subscription_helpers import GUARD_S, next_bundle, status_of, subscription_body
from tests.test_embedded import EmbeddedProcess, _wait_ready, start_embedded

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedProcess]:
    with start_embedded(tmp_path_factory.mktemp("embedded-fhir")) as running:
        yield running


async def _headers(http: httpx.AsyncClient, role: str) -> dict[str, str]:
    account = next(a for a in DEMO_ACCOUNTS if a.role.value == role)
    login = await http.post("/api/v1/auth/login", json={"email": account.email, "password": account.password})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_the_demo_ward_streams_to_a_subscriber_and_exports(embedded: EmbeddedProcess) -> None:
    await _wait_ready(embedded)
    async with httpx.AsyncClient(base_url=embedded.base_url, timeout=GUARD_S) as http:
        nurse, admin = await _headers(http, "nurse"), await _headers(http, "admin")
        wards = (await http.get("/api/v1/wards", headers=nurse)).json()
        ward = next(w for w in wards if w["code"] == "W4B")
        body = subscription_body("vital-signs", f"Observation?ward={ward['id']}")
        created = await http.post(
            "/fhir/R4/Subscription", json=body, headers={**nurse, "Content-Type": "application/fhir+json"}
        )
        assert created.status_code == 201, created.text
        answer = await http.post(
            f"/fhir/R4/Subscription/{created.json()['id']}/$get-ws-binding-token", headers=nurse
        )
        parameters = {p["name"]: p for p in answer.json()["parameter"]}
        async with connect(parameters["websocket-url"]["valueUrl"], open_timeout=GUARD_S) as socket:
            await socket.send(f"bind-with-token {parameters['token']['valueString']}")
            await next_bundle(socket, "handshake")
            # The demo's monitors publish every second: the next readings of the ward arrive.
            notification = status_of(await next_bundle(socket, "event-notification"))
        assert notification["notificationEvent"][0]["focus"]["reference"].startswith("Observation/")

        kick_off = await http.get(
            f"/fhir/R4/Group/{ward['id']}/$export",
            params={"_type": "Patient"},
            headers={**admin, "Prefer": "respond-async"},
        )
        assert kick_off.status_code == 202, kick_off.text
        async with asyncio.timeout(GUARD_S * 2):
            while True:
                done = await http.get(kick_off.headers["content-location"], headers=admin)
                if done.status_code != 202:
                    break
                # Polling is the protocol: the server says when to ask again.
                await asyncio.sleep(float(done.headers["retry-after"]))
        assert done.status_code == 200, done.text
        [output] = done.json()["output"]
        lines = (await http.get(output["url"], headers=admin)).text.splitlines()
    assert output["type"] == "Patient" and len(lines) == output["count"] > 0
    for line in lines:
        validate_resource(json.loads(line))
