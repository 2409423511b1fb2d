"""Consultations in the embedded mode: SQLite, the in-process bus and in-memory room state."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from ownat import migrate
from realtime.consult.state import MemoryRoomStore
from tests.builders import bearer
from tests.realtime.consult_helpers import consult_client, video_visit
from tests.realtime.hub_helpers import serve_app, token_for

pytestmark = pytest.mark.asyncio

# Generous: a guard against a hang on a loaded machine, not a timing assertion.
HTTP_TIMEOUT_S = 60.0


async def test_a_guest_joins_a_consultation_on_sqlite_and_the_chat_is_kept(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/embedded.db"
    # Alembic drives its own event loop: run it on a thread of its own.
    await asyncio.to_thread(migrate.upgrade, url)
    settings = Settings(
        _env_file=None,
        environment="test",
        data_dir=tmp_path,
        database_url=url,
        redis_url=None,
        secret_key="s" * 64,
        log_json=False,
    )
    async with serve_app(settings) as running:
        assert isinstance(running.app.state.consult.rooms, MemoryRoomStore)
        visit = await video_visit(running.app.state.resources.sessions, passwords=False)
        api = running.url.replace("ws://", "http://").removesuffix("/ws") + "/api/v1/consults"
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as http:
            invited = await http.post(
                f"{api}/{visit.room}/invitations",
                json={"display_name": "Daughter"},
                headers=bearer(token_for(visit.clinician, settings)),
            )
            assert invited.status_code == 201, invited.text
            ticket = (
                await http.post(f"{api}/invitations/redeem", json={"token": invited.json()["token"]})
            ).json()
            again = await http.post(f"{api}/invitations/redeem", json={"token": invited.json()["token"]})
            assert again.status_code == 401
        ws_url = running.url + "/consult"
        async with (
            consult_client(ws_url, token_for(visit.clinician, settings)) as clinician_ws,
            consult_client(ws_url, ticket["ticket"]) as guest_ws,
        ):
            await clinician_ws.join(visit.room)
            guest_id = (await guest_ws.join(visit.room))["participant"]["id"]
            await clinician_ws.send(type="admit", participant=guest_id)
            await guest_ws.expect("admitted")
            await guest_ws.send(type="chat", text="Hello from the family")
            assert (await clinician_ws.expect("chat"))["display_name"] == "Daughter"
            await clinician_ws.send(type="end")
            await guest_ws.expect("ended")
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as http:
            as_patient = bearer(token_for(visit.patient, settings))
            record = (await http.get(f"{api}/{visit.room}", headers=as_patient)).json()
            chat = (await http.get(f"{api}/{visit.room}/chat", headers=as_patient)).json()
    assert record["duration_s"] is not None and record["encounter_id"] is not None
    assert [e["kind"] for e in record["events"]] == ["join", "join", "admit", "end"]
    assert [(line["role"], line["text"]) for line in chat] == [("guest", "Hello from the family")]
