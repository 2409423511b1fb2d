"""The live evaluator's pacing: the first readings after a quiet spell start a round at once."""

from __future__ import annotations

import asyncio

from core.bus import InProcessBus
from core.db import utc_now
from devices.ingest.attribution import Attribution
from realtime.alarms.defaults import HR
from realtime.alarms.live_evaluator import LiveAlarmEvaluator, LiveTuning
from tests.devices.ingest_helpers import GUARD_S, new_patient


async def test_readings_after_a_quiet_spell_are_evaluated_without_waiting_for_the_pace(sessions) -> None:
    patient_id = await new_patient(sessions)
    # Rounds an hour apart: only a round started on the leading edge can finish within the guard.
    evaluator = LiveAlarmEvaluator(
        sessions=sessions, bus=InProcessBus(), tuning=LiveTuning(min_round_interval_s=3600)
    )
    task = asyncio.create_task(evaluator.run())
    try:
        evaluator.observe({("t-pace", Attribution(patient_id, None, None)): [(HR, 72.0, "", utc_now())]})
        async with asyncio.timeout(GUARD_S):
            while evaluator.stats.rounds < 1:
                await evaluator.round_done.wait()
        assert (evaluator.stats.evaluated, evaluator.waiting) == (1, 0)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
