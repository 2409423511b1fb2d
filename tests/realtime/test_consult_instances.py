"""Two api instances as real processes: the patient on one, the clinician on the other, one room."""

from __future__ import annotations

import functools
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Settings
from realtime.consult.protocol import CLOSE_ENDED, CLOSE_REPLACED
from tests.devices.ingest_helpers import wait_until
from tests.devices.private_postgres import free_port
from tests.realtime.consult_helpers import Peer, consult_client, video_visit
from tests.realtime.hub_helpers import token_for
from tests.realtime.test_hub_instances import _serving, api_instance, process, service_env

pytestmark = pytest.mark.asyncio

# A guard against a hung start only: on a loaded machine importing the app takes tens of seconds.
STARTUP_GUARD_S = 180.0


async def test_a_consultation_across_two_api_instances(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    visit = await video_visit(sessions, passwords=False)
    env = service_env(settings)
    ports = [free_port(), free_port()]
    with ExitStack() as children:
        for n, port in enumerate(ports):
            children.enter_context(process(api_instance(port), env, tmp_path / f"api-{n}.log"))
        for n, port in enumerate(ports):
            await wait_until(
                functools.partial(_serving, port), what=f"api instance {n} to serve", guard_s=STARTUP_GUARD_S
            )
        on_a, on_b = (f"ws://127.0.0.1:{port}/ws/consult" for port in ports)
        async with (
            consult_client(on_a, token_for(visit.patient, settings)) as patient_ws,
            consult_client(on_b, token_for(visit.clinician, settings)) as clinician_ws,
        ):
            patient_id = (await patient_ws.join(visit.room))["participant"]["id"]
            clinician_id = (await clinician_ws.join(visit.room))["participant"]["id"]
            # The clinician's instance sees the patient waiting on the other one.
            assert [p["id"] for p in (await clinician_ws.expect("waiting"))["waiting"]] == [patient_id]
            await clinician_ws.send(type="admit", participant=patient_id)
            assert [p["id"] for p in (await patient_ws.expect("admitted"))["peers"]] == [clinician_id]

            patient, clinician = Peer(patient_ws), Peer(clinician_ws)
            try:
                await patient.offer_to(clinician_id)
                await clinician.answer_offer()
                await patient.take_answer(clinician_id)
                await patient.media_flowing()
                await clinician.media_flowing()
            finally:
                await patient.close()
                await clinician.close()

            await patient_ws.send(type="chat", text="across instances")
            for ws in (patient_ws, clinician_ws):
                assert (await ws.expect("chat"))["from"] == patient_id

            # The patient reconnects on the clinician's instance: the connection on A is replaced, and
            # the patient, admitted before, is back in the call without the waiting room.
            async with consult_client(on_b, token_for(visit.patient, settings)) as again_ws:
                assert (await again_ws.join(visit.room))["participant"]["status"] == "admitted"
                assert (await patient_ws.expect("error"))["code"] == "replaced"
                assert await patient_ws.closed_with() == CLOSE_REPLACED
                assert (await clinician_ws.expect("peer-left"))["participant"] == patient_id

                await clinician_ws.send(type="end")
                for ws in (again_ws, clinician_ws):
                    assert await ws.closed_with() == CLOSE_ENDED
