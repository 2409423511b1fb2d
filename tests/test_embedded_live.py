"""`ownat dev` with live data: simulated monitors publish into the embedded broker, the in-process ingest
worker stores their readings in SQLite, and the demo patient reads them through the vitals API."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from ownat.demo import DEMO_ACCOUNTS
from tests.test_embedded import EmbeddedProcess, _wait_ready, embedded  # noqa: F401 - the fixture

pytestmark = pytest.mark.embedded

LIVE_TIMEOUT_S = 60  # a guard against hanging, never a timing assertion


async def _sign_in(http: httpx.AsyncClient, role: str) -> dict[str, str]:
    """The headers of the demo account of `role`."""
    account = next(a for a in DEMO_ACCOUNTS if a.role.value == role)
    login = await http.post("/api/v1/auth/login", json={"email": account.email, "password": account.password})
    assert login.status_code == 200, login.text
    return {"authorization": f"Bearer {login.json()['access_token']}"}


async def _points_once_there(
    embedded: EmbeddedProcess,  # noqa: F811
    http: httpx.AsyncClient,
    headers: dict[str, str],
    patient_id: str,
    metric: str,
    *,
    at_least: int,
) -> list[dict[str, object]]:
    """The patient's stored points of `metric`, once there are `at_least` of them."""
    url = f"/api/v1/patients/{patient_id}/vitals"
    async with asyncio.timeout(LIVE_TIMEOUT_S):
        while True:
            assert embedded.process.poll() is None, f"ownat dev exited:\n{embedded.log()}"
            response = await http.get(url, params={"metric": metric}, headers=headers)
            assert response.status_code == 200, response.text
            points: list[dict[str, object]] = response.json()["points"]
            if len(points) >= at_least:
                return points
            # Readings arrive once a second from the simulated devices: nothing to await but them.
            await asyncio.sleep(0.5)


async def _device(http: httpx.AsyncClient, headers: dict[str, str], device_id: str) -> dict[str, object]:
    devices = (await http.get("/api/v1/devices", params={"limit": 200}, headers=headers)).json()["items"]
    [device] = [d for d in devices if d["device_id"] == device_id]
    return device


async def test_the_demo_patient_sees_live_simulated_vitals(embedded: EmbeddedProcess) -> None:  # noqa: F811
    await _wait_ready(embedded)
    async with httpx.AsyncClient(base_url=embedded.base_url) as http:
        headers = await _sign_in(http, "patient")
        me = (await http.get("/api/v1/auth/me", headers=headers)).json()
        points = await _points_once_there(embedded, http, headers, me["patient_id"], "hr", at_least=3)
        assert {p["device_id"] for p in points} == {"home-jensen-oximeter"}
        latest = await http.get(f"/api/v1/patients/{me['patient_id']}/vitals/latest", headers=headers)
        assert latest.status_code == 200 and any(item["metric"] == "8867-4" for item in latest.json())


async def test_one_demo_monitor_speaks_ieee_11073_sdc_and_its_vitals_arrive(
    embedded: EmbeddedProcess,  # noqa: F811
) -> None:
    await _wait_ready(embedded)
    # The SDC monitor starts beside the api, so on a busy machine it may announce itself after ready.
    found = None
    async with asyncio.timeout(60):
        while not (found := re.search(r"demo monitor (\S+) speaks IEEE 11073 SDC", embedded.log())):
            assert embedded.process.poll() is None, f"ownat dev exited:\n{embedded.log()}"
            await asyncio.sleep(0.5)
    assert found, f"no demo monitor speaks SDC:\n{embedded.log()}"
    sdc_device = found.group(1)
    async with httpx.AsyncClient(base_url=embedded.base_url) as http:
        headers = await _sign_in(http, "clinician")
        device = await _device(http, headers, sdc_device)
        patient_id = device["current_binding"]["patient_id"]  # type: ignore[index]
        points = await _points_once_there(embedded, http, headers, patient_id, "spo2", at_least=1)
    assert {p["device_id"] for p in points} == {sdc_device}


async def test_the_pcd01_bed_is_fed_over_mllp_end_to_end(embedded: EmbeddedProcess) -> None:  # noqa: F811
    """CCU bed 1's monitor speaks IHE PCD-01 over MLLP; its readings reach the clinician like the others."""
    await _wait_ready(embedded)
    async with httpx.AsyncClient(base_url=embedded.base_url) as http:
        headers = await _sign_in(http, "nurse")
        device = await _device(http, headers, "ccu-bed01")
        patient_id = device["current_binding"]["patient_id"]  # type: ignore[index]
        points = await _points_once_there(embedded, http, headers, patient_id, "spo2", at_least=2)
        assert {p["device_id"] for p in points} == {"ccu-bed01"}
    assert "PCD-01 message refused" not in embedded.log()
