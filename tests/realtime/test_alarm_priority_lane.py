"""The alarm lane: a crossing raises its alarm ahead of a flood of readings waiting to be evaluated,
and a dashboard that cannot keep up gets the alarm before the readings queued for it.

Nothing here asserts a time: "ahead" is shown by what is still waiting when the alarm arrives.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select, text

from clinical.patients import service as patients
from clinical.patients.schemas import PatientCreate
from core.bus import create_bus
from core.principal import SYSTEM, Principal, Role
from core.sessions import transaction
from devices.ingest.attribution import Attribution
from devices.registry.models import DeviceBinding
from realtime.alarms.decisions import threshold_key
from realtime.alarms.defaults import HR, RR, SBP, SPO2, AgeGroup, default_limits
from realtime.alarms.live_evaluator import LiveAlarmEvaluator, LiveTuning
from realtime.alarms.models import Alarm, AlarmKind, AlarmStatus
from realtime.alarms.news2 import ClinicalRisk
from realtime.alarms.quiet import QuietPatients, Urgency
from realtime.hub.connection import Connection, ConnectionTuning
from realtime.hub.feeds import encode
from realtime.hub.keys import SubscriptionKey
from tests.devices.ingest_helpers import (
    GUARD_S,
    Publisher,
    register_devices,
    unique_device_id,
    unique_name,
    worker_config,
)
from tests.realtime.alarm_builders import AT_ONCE
from tests.realtime.test_live_evaluator import WELL, next_alarm, vitals, worker_with_alarms

FLOOD = 300  # patients whose readings wait for their first full evaluation, as after a restart
PER_ROUND = 20  # so that the flood needs fifteen rounds


async def monitored_patients(sessions, count: int) -> list[tuple[str, uuid.UUID]]:
    """`count` patients, each with a bedside monitor bound to them: (device id, patient id)."""
    devices = [unique_device_id("flood") for _ in range(count)]
    rows = await register_devices(sessions, devices)
    async with transaction(sessions) as session:
        ids = []
        for _ in range(count):
            data = PatientCreate(given_name="Flo", family_name=unique_name("Od"), birth_date=date(1958, 3, 2))
            ids.append((await patients.create_patient(session=session, actor=SYSTEM, data=data)).id)
        start = datetime.now(UTC) - timedelta(hours=1)
        await session.execute(
            insert(DeviceBinding),
            [
                {"device_uuid": rows[d], "patient_id": p, "start_at": start}
                for d, p in zip(devices, ids, strict=True)
            ],
        )
    return list(zip(devices, ids, strict=True))


async def test_a_crossing_is_evaluated_at_once_however_many_patients_wait(
    sessions, redis_url, redis_prefix
) -> None:
    flood = await monitored_patients(sessions, FLOOD)
    (_device, crossing), *_ = await monitored_patients(sessions, 1)
    bus = create_bus(redis_url=redis_url, key_prefix=redis_prefix)
    # One routine round only, of twenty patients: the pace holds the next one back for an hour.
    tuning = LiveTuning(min_round_interval_s=3600, max_patients_per_round=PER_ROUND)
    evaluator = LiveAlarmEvaluator(sessions=sessions, bus=bus, tuning=tuning, policy=AT_ONCE)
    at = datetime.now(UTC) - timedelta(seconds=2)
    well = [(HR, 72.0, "", at), (RR, 16.0, "", at), (SPO2, 98.0, "", at)]
    sick = [(HR, 135.0, "", at), (RR, 26.0, "", at), (SPO2, 90.0, "", at)]
    # The crossing is handed over last, behind every flooded patient.
    batch = {(d, Attribution(p, None, None)): well for d, p in flood}
    batch[("t-crossing", Attribution(crossing, None, None))] = sick
    evaluator.observe(batch)
    try:
        async with bus.subscribe(channels=[f"alarms.patient.{crossing}"]) as alarms:
            task = asyncio.create_task(evaluator.run())
            try:
                raised = await next_alarm(alarms)
                evaluated, waiting = evaluator.stats.evaluated, evaluator.waiting
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
    finally:
        await bus.close()
    assert raised["change"] == "raised" and raised["alarm"]["patient_id"] == str(crossing)
    # Raised with the flood still waiting, less at most the one round it may have had meanwhile.
    assert evaluated <= PER_ROUND + 1 and waiting >= FLOOD - PER_ROUND


def test_only_a_value_newly_beyond_a_limit_is_urgent_and_only_one_without_delay_jumps_the_rounds() -> None:
    quiet, patient_id = QuietPatients(full_every_s=600), uuid.uuid4()
    # Not seen yet: ranked by the adult defaults (heart rate 41-130 after 10 s; systolic 91-219 at once).
    assert quiet.urgency(patient_id, {HR: 150}, now_s=0) is Urgency.NOW
    assert quiet.urgency(patient_id, {HR: 90}, now_s=0) is Urgency.SOON
    assert not quiet.raises_at_once(patient_id, HR, 150)  # its pending condition dates from the reading
    assert quiet.raises_at_once(patient_id, SBP, 80) and not quiet.raises_at_once(patient_id, SBP, 120)
    limits = default_limits(AgeGroup.ADULT)
    limits[HR] = replace(limits[HR], high=120, delay_s=0)  # a clinician's limit, alarming at once
    quiet.evaluated(patient_id, {HR: 125, SPO2: 97}, limits=limits, news2_risk=ClinicalRisk.LOW, now_s=0)
    # Still beyond the limit it was beyond: its alarm is open already.
    assert not quiet.raises_at_once(patient_id, HR, 128)
    assert quiet.urgency(patient_id, {HR: 128, SPO2: 97}, now_s=1) is Urgency.CHANGED
    # Beyond another limit: news, though with the SpO2 delay it can wait for the rounds.
    assert quiet.urgency(patient_id, {HR: 128, SPO2: 85}, now_s=1) is Urgency.NOW
    assert not quiet.raises_at_once(patient_id, SPO2, 85)


async def test_a_stream_of_crossings_never_starves_everyone_else(sessions, redis_url, redis_prefix) -> None:
    flood = await monitored_patients(sessions, FLOOD)
    crossings = [patient for _device, patient in await monitored_patients(sessions, 5)]
    bus = create_bus(redis_url=redis_url, key_prefix=redis_prefix)
    tuning = LiveTuning(min_round_interval_s=0.2, max_patients_per_round=PER_ROUND)
    evaluator = LiveAlarmEvaluator(sessions=sessions, bus=bus, tuning=tuning, policy=AT_ONCE)
    at = datetime.now(UTC) - timedelta(seconds=2)
    well = [(HR, 72.0, "", at), (RR, 16.0, "", at), (SPO2, 98.0, "", at)]
    low_pressure = [(SBP, 80.0, "", at)]  # beyond the adult default, which alarms without delay
    evaluator.observe({(d, Attribution(p, None, None)): well for d, p in flood})
    task = asyncio.create_task(evaluator.run())
    try:
        async with asyncio.timeout(4 * GUARD_S):
            # A new crossing as soon as the last one has had its round, while the flood is evaluated.
            handed = 0
            while evaluator.waiting or evaluator.stats.crossing_rounds < len(crossings):
                if handed == evaluator.stats.crossing_rounds < len(crossings):
                    patient = crossings[handed]
                    evaluator.observe({(f"t-{patient}", Attribution(patient, None, None)): low_pressure})
                    handed += 1
                await evaluator.round_done.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await bus.close()
    assert evaluator.stats.crossing_rounds == len(crossings)
    assert evaluator.stats.changes >= len(crossings)  # each crossing raised its alarm
    assert evaluator.stats.evaluated >= FLOOD + len(crossings)


async def test_an_alarm_from_mqtt_overtakes_a_flood_of_readings_waiting_for_evaluation(
    settings, sessions, mqtt_url, redis_url, redis_prefix
) -> None:
    flood = await monitored_patients(sessions, FLOOD)
    (crossing_device, crossing), *_ = await monitored_patients(sessions, 1)
    bus = create_bus(redis_url=redis_url, key_prefix=redis_prefix)
    config = worker_config(settings.database_url, mqtt_url)
    at = datetime.now(UTC) - timedelta(seconds=3)
    try:
        async with (
            worker_with_alarms(
                config, bus, policy=AT_ONCE, min_round_interval_s=1.0, max_patients_per_round=PER_ROUND
            ) as evaluator,
            bus.subscribe(channels=[f"alarms.patient.{crossing}"]) as alarms,
            Publisher(mqtt_url) as publisher,
        ):
            await publisher.publish_all(
                (f"ownat/v1/devices/{device}/vitals", vitals(0, at, WELL)) for device, _patient in flood
            )
            async with asyncio.timeout(GUARD_S):
                while evaluator.stats.evaluated + evaluator.waiting < FLOOD:
                    await evaluator.round_done.wait()  # the flood committed and handed over
            topic = f"ownat/v1/devices/{crossing_device}/vitals"
            # A cuff pressure below the adult default, which alarms without a condition delay.
            low_pressure = (("sbp", "mm[Hg]", 80.0),)
            await publisher.publish_all([(topic, vitals(0, at, low_pressure))])
            raised = await next_alarm(alarms)
            still_waiting, evaluated = evaluator.waiting, evaluator.stats.evaluated
            lane_rounds = evaluator.stats.crossing_rounds
    finally:
        await bus.close()
    assert raised["change"] == "raised" and raised["alarm"]["patient_id"] == str(crossing)
    # Raised in the crossing lane while most of the flood, received before it, still waited.
    assert lane_rounds == 1 and still_waiting > 0 and evaluated < FLOOD


async def next_change_of(subscription, condition_key: str) -> dict:
    """The next alarm change of one condition (a NEWS2 alarm changing meanwhile is passed over)."""
    while (message := await next_alarm(subscription))["alarm"]["condition_key"] != condition_key:
        pass
    return message


async def waiting_behind(sessions, holder_pid: int) -> int:
    """How many database sessions are waiting for a lock that the session `holder_pid` holds."""
    async with sessions() as session:
        query = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
        return int(await session.scalar(query, {"pid": holder_pid}))


async def test_a_crossing_waits_for_the_round_holding_its_patient_so_an_older_reading_cannot_end_its_alarm(
    sessions, redis_url, redis_prefix
) -> None:
    (_device, patient), *_ = await monitored_patients(sessions, 1)
    bus = create_bus(redis_url=redis_url, key_prefix=redis_prefix)
    # The tick is kept out of the way: only the readings below decide what is evaluated, and where.
    tuning = LiveTuning(min_round_interval_s=0.05, tick_s=3600)
    evaluator = LiveAlarmEvaluator(sessions=sessions, bus=bus, tuning=tuning, policy=AT_ONCE)
    cuff = ("t-cuff", Attribution(patient, None, None))
    at = datetime.now(UTC) - timedelta(seconds=30)
    task = asyncio.create_task(evaluator.run())
    try:
        async with bus.subscribe(channels=[f"alarms.patient.{patient}"]) as alarms:
            # A systolic pressure below the adult default, which alarms without a condition delay.
            evaluator.observe({cuff: [(SBP, 80.0, "", at)]})
            low = await next_change_of(alarms, threshold_key(SBP, "low"))
            assert low["change"] == "raised"
            async with sessions() as holder:
                # A slow transaction elsewhere holds the open alarm: a round reaching it waits there.
                holder_pid = await holder.scalar(text("SELECT pg_backend_pid()"))
                await holder.execute(select(Alarm.id).where(Alarm.patient_id == patient).with_for_update())
                # A normal pressure: the routine round takes the patient and waits for the lock.
                evaluator.observe({cuff: [(SBP, 120.0, "", at + timedelta(seconds=10))]})
                async with asyncio.timeout(GUARD_S):
                    while await waiting_behind(sessions, holder_pid) == 0:  # noqa: ASYNC110 - only the database knows
                        await asyncio.sleep(0.01)
                # A newer pressure beyond the high limit, while the round still holds the older one.
                evaluator.observe({cuff: [(SBP, 230.0, "", at + timedelta(seconds=20))]})
                for _turn in range(20):
                    await asyncio.sleep(0)  # the crossing lane's turns to take it, had it been free to
                held_back, behind = evaluator.waiting, await waiting_behind(sessions, holder_pid)
                await holder.rollback()
            # The round ends the low alarm with the older reading; only then the lane raises the high one.
            ended = await next_change_of(alarms, threshold_key(SBP, "low"))
            high = await next_change_of(alarms, threshold_key(SBP, "high"))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await bus.close()
    # While the round held the patient, the crossing waited for it instead of being evaluated beside it.
    assert held_back == 1 and behind == 1
    assert ended["change"] == "resolved" and high["change"] == "raised"
    assert evaluator.stats.crossing_rounds == 2
    async with sessions() as session:
        still_open = await session.scalars(
            select(Alarm.condition_key).where(
                Alarm.patient_id == patient,
                Alarm.kind == AlarmKind.THRESHOLD,
                Alarm.status != AlarmStatus.RESOLVED,
            )
        )
        assert set(still_open) == {threshold_key(SBP, "high")}


async def test_a_crossing_of_a_patient_the_round_let_go_of_does_not_wait_for_that_round(
    sessions, redis_url, redis_prefix
) -> None:
    (_d1, held), (_d2, quiet) = await monitored_patients(sessions, 2)
    bus = create_bus(redis_url=redis_url, key_prefix=redis_prefix)
    tuning = LiveTuning(min_round_interval_s=0.05, tick_s=3600)
    evaluator = LiveAlarmEvaluator(sessions=sessions, bus=bus, tuning=tuning, policy=AT_ONCE)
    held_cuff = ("t-held", Attribution(held, None, None))
    quiet_monitor = ("t-quiet", Attribution(quiet, None, None))
    at = datetime.now(UTC) - timedelta(seconds=30)
    well = [(HR, 72.0, "", at), (RR, 16.0, "", at), (SPO2, 98.0, "", at), (SBP, 120.0, "", at)]
    task = asyncio.create_task(evaluator.run())
    try:
        async with (
            bus.subscribe(channels=[f"alarms.patient.{held}"]) as held_alarms,
            bus.subscribe(channels=[f"alarms.patient.{quiet}"]) as quiet_alarms,
        ):
            # One patient with an open alarm; the other evaluated once, well, so known to be quiet.
            evaluator.observe({held_cuff: [(SBP, 80.0, "", at)], quiet_monitor: well})
            assert (await next_change_of(held_alarms, threshold_key(SBP, "low")))["change"] == "raised"
            async with asyncio.timeout(GUARD_S):
                while evaluator.waiting or evaluator.stats.evaluated < 2:
                    await evaluator.round_done.wait()
            async with sessions() as holder:
                holder_pid = await holder.scalar(text("SELECT pg_backend_pid()"))
                await holder.execute(select(Alarm.id).where(Alarm.patient_id == held).with_for_update())
                # One round takes both: the first waits for the lock, the second is quiet and let go.
                later = at + timedelta(seconds=10)
                evaluator.observe(
                    {
                        held_cuff: [(SBP, 120.0, "", later)],
                        quiet_monitor: [(m, v, u, later) for m, v, u, _at in well],
                    }
                )
                async with asyncio.timeout(GUARD_S):
                    while await waiting_behind(sessions, holder_pid) == 0:  # noqa: ASYNC110 - only the database knows
                        await asyncio.sleep(0.01)
                # The quiet patient's pressure falls while that round is still held.
                evaluator.observe({quiet_monitor: [(SBP, 80.0, "", at + timedelta(seconds=20))]})
                raised = await next_change_of(quiet_alarms, threshold_key(SBP, "low"))
                still_held = await waiting_behind(sessions, holder_pid)
                await holder.rollback()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await bus.close()
    # Raised by the crossing lane while the round that had taken the patient was still in flight.
    assert raised["change"] == "raised" and still_held == 1


class HeldSocket:
    """A dashboard's socket that takes one frame, then nothing until released (a client that stalls)."""

    def __init__(self, expected: int) -> None:
        self.sent: list[str] = []
        self.expected = expected
        self.release = asyncio.Event()
        self.first_taken = asyncio.Event()
        self.all_taken = asyncio.Event()

    async def send_text(self, text: str) -> None:
        if self.sent:
            await self.release.wait()
        self.sent.append(text)
        self.first_taken.set()
        if len(self.sent) == self.expected:
            self.all_taken.set()

    async def receive_text(self) -> str | None:
        await asyncio.Event().wait()
        return None

    async def close(self, code: int, reason: str = "") -> None:
        return None


async def no_snapshot(_key: SubscriptionKey, _reason: str) -> dict:
    raise AssertionError("no resync expected: the queue never fills")


async def test_a_stalled_dashboard_gets_an_alarm_before_the_readings_queued_for_it() -> None:
    socket = HeldSocket(expected=102)  # the snapshot, a hundred readings and the alarm
    nurse = Principal(user_id=uuid.uuid4(), role=Role.NURSE)
    connection = Connection(transport=socket, principal=nurse, tuning=ConnectionTuning(), load=no_snapshot)
    ward = SubscriptionKey("ward", uuid.uuid4())
    connection.open_feed(ward)
    connection.feed_ready(ward, {"type": "snapshot", "beds": []})
    writer = asyncio.create_task(connection.run_writer())
    try:
        async with asyncio.timeout(GUARD_S):
            await socket.first_taken.wait()  # the snapshot went; the socket now stalls
        for n in range(100):
            connection.deliver(ward, "vitals", encode({"type": "vitals", "n": n}))
        alarm = encode({"type": "alarm", "alarm": {"code": "8867-4", "patient_id": "p"}})
        connection.deliver(ward, "alarm", alarm)
        assert connection.frames_waiting == (1, 100)
        socket.release.set()
        async with asyncio.timeout(GUARD_S):
            await socket.all_taken.wait()
    finally:
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
    # The snapshot, then the alarm ahead of every reading that was waiting, then the readings in order.
    assert socket.sent[1] == alarm
    assert socket.sent[2:] == [encode({"type": "vitals", "n": n}) for n in range(100)]
