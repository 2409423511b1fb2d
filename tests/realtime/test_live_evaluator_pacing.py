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


async def test_the_evaluator_stops_when_told_to_however_readings_arrive_meanwhile(sessions) -> None:
    patient_id = await new_patient(sessions)
    monitor = ("t-stop", Attribution(patient_id, None, None))
    stopped = []
    # A stop that comes just as readings wake the idle evaluator, each loop turn of that moment tried.
    for turns in range(4):
        evaluator = LiveAlarmEvaluator(
            sessions=sessions, bus=InProcessBus(), tuning=LiveTuning(tick_s=3600, min_round_interval_s=0)
        )
        task = asyncio.create_task(evaluator.run())
        for _turn in range(3):
            await asyncio.sleep(0)  # idle now, waiting for readings
        evaluator.observe({monitor: [(HR, 72.0, "", utc_now())]})
        for _turn in range(turns):
            await asyncio.sleep(0)
        task.cancel()
        done, _pending = await asyncio.wait({task}, timeout=GUARD_S)
        stopped.append(task in done)
        if task not in done:  # a stop the evaluator missed: end it so that the test can report it
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert stopped == [True] * 4
