"""The hub in the embedded mode: SQLite and the in-process bus, same protocol."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.db import utc_now
from core.principal import Role
from core.settings import Settings
from ownat import migrate
from tests.builders import create_user
from tests.clinical.builders import admit, create_patient, create_ward_with_beds
from tests.realtime.hub_helpers import (
    hub_client,
    publish_vitals,
    serve_app,
    store_reading,
    token_for,
    vitals_message,
)

pytestmark = pytest.mark.asyncio


async def test_snapshot_and_deltas_on_sqlite_and_the_in_process_bus(tmp_path: Path) -> None:
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
        sessions = running.app.state.resources.sessions
        nurse, _ = await create_user(sessions, role=Role.NURSE)
        ward, (bed,) = await create_ward_with_beds(sessions, beds=1)
        patient = await create_patient(sessions)
        await admit(sessions, patient_id=patient.id, bed_id=bed.id)
        await store_reading(sessions, patient_id=patient.id, device_id="emb-1", value=70, at=utc_now())
        async with hub_client(running.url, token_for(nurse, settings)) as client:
            snapshot = await client.subscribe("ward", ward.id)
            message = vitals_message(
                device_id="emb-1",
                patient_id=patient.id,
                bed_id=bed.id,
                ward_id=ward.id,
                values=[71],
                start=utc_now(),
            )
            await publish_vitals(running.bus, message)
            delta = await client.receive_type("vitals")
    [entry] = snapshot["beds"]
    assert [v["value"] for v in entry["vitals"]] == [70]
    assert [r["value"] for r in delta["readings"]] == [71]
