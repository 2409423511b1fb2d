"""`ownat dev` raises a demo alarm by itself: Ward 4B's bed 3 deteriorates, the live evaluator in the
embedded ingest worker scores it, and the alarm reaches a nurse watching the ward over the hub
(the in-process bus) and the alarms API.

The demo's clinical course runs ten times faster than `ownat dev`'s default here
(`OWNAT_DEMO_TIME_SCALE`), so the test waits seconds, not the minute a newcomer waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from core.principal import Role
from ownat.demo.accounts import account
from tests.realtime.hub_helpers import hub_client
from tests.test_embedded import EmbeddedProcess, _wait_ready, start_embedded

pytestmark = pytest.mark.embedded

# A guard against hanging, never a timing assertion: at the default demo speed an alarm shows
# within a minute of start; at ten times that speed it takes a few seconds.
ALARM_GUARD_S = 60


@pytest.fixture(scope="module")
def fast_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedProcess]:
    with start_embedded(
        tmp_path_factory.mktemp("embedded-alarms"), OWNAT_DEMO_TIME_SCALE="3600", OWNAT_DEMO_ONSET_S="0"
    ) as running:
        yield running


async def test_the_deteriorating_demo_patient_raises_an_alarm_a_nurse_sees(
    fast_demo: EmbeddedProcess,
) -> None:
    await _wait_ready(fast_demo)
    nurse = account(Role.NURSE)
    async with httpx.AsyncClient(base_url=fast_demo.base_url) as http:
        login = await http.post("/api/v1/auth/login", json={"email": nurse.email, "password": nurse.password})
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        headers = {"authorization": f"Bearer {token}"}
        wards = (await http.get("/api/v1/wards", headers=headers)).json()
        ward = next(w for w in wards if w["code"] == "W4B")
        beds = (await http.get(f"/api/v1/wards/{ward['id']}/beds", headers=headers)).json()
        bed3 = next(b for b in beds if b["label"] == "Bed 03")
        url = fast_demo.base_url.replace("http://", "ws://") + "/ws"
        async with hub_client(url, token) as client:
            snapshot = await client.subscribe("ward", ward["id"])
            assert snapshot["type"] == "snapshot", snapshot
            async with asyncio.timeout(ALARM_GUARD_S):
                while True:
                    assert fast_demo.process.poll() is None, f"ownat dev exited:\n{fast_demo.log()}"
                    message = await client.receive_type("alarm", "snapshot")
                    alarm = message.get("alarm", {}).get("alarm", {})
                    if alarm.get("bed_id") == bed3["id"] and alarm.get("kind") in ("news2", "threshold"):
                        break
        assert message["alarm"]["change"] == "raised"
        listed = await http.get("/api/v1/alarms", params={"ward_id": ward["id"]}, headers=headers)
        assert listed.status_code == 200, listed.text
        assert alarm["id"] in {a["id"] for a in listed.json()}
