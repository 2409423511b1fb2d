"""The watchdog of alarm evaluation: a live evaluator beats while its rounds commit, and every hub
tells its staff sockets when no evaluator has been heard for `alarm_watchdog_s`, and when one is again.

Against the real PostgreSQL and Redis: an evaluator started and stopped as `ownat ingest` would,
a hub under uvicorn, WebSocket clients signed in as a nurse and as a patient, the admin's status API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.bus import ALARMS_EVALUATION, Bus, EvaluatorBeat, create_bus
from core.db import create_engine
from core.principal import Role
from core.sessions import create_sessionmaker
from core.settings import Settings
from realtime.alarms.live_evaluator import LiveAlarmEvaluator, LiveTuning
from realtime.hub.alarm_watch import AlarmEvaluationWatch
from tests.builders import bearer, create_user, login_tokens
from tests.realtime.alarm_builders import client_for, running
from tests.realtime.hub_helpers import RECEIVE_TIMEOUT_S, HubClient, hub_client, serve_app, token_for

# Short, so that the tests take seconds; the settings' defaults are 5 s and 20 s.
BEAT_S = 0.2
WATCHDOG_S = 1.5
QUICK = LiveTuning(tick_s=BEAT_S, heartbeat_s=BEAT_S, min_round_interval_s=0.05)


def watched(settings: Settings) -> Settings:
    return settings.model_copy(update={"alarm_watchdog_s": WATCHDOG_S, "alarm_heartbeat_s": BEAT_S})


def evaluator(sessions: async_sessionmaker[AsyncSession], bus: Bus) -> LiveAlarmEvaluator:
    return LiveAlarmEvaluator(sessions=sessions, bus=bus, tuning=QUICK)


async def next_evaluation_state(client: HubClient) -> str:
    state: str = (await client.receive_type("alarm_evaluation"))["state"]
    return state


# --- The watch's own decisions, on a clock the test moves ---------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def beat(name: str) -> EvaluatorBeat:
    return EvaluatorBeat(evaluator=name, sent_at=0.0, rounds=1, waiting=0)


def test_silence_after_start_counts_only_once_the_evaluators_have_had_time_to_be_heard() -> None:
    clock, said = Clock(), []
    watch = AlarmEvaluationWatch(stale_after_s=20, announce=said.append, clock=clock)
    clock.now += 19
    watch.check()
    assert watch.state == "starting" and not said
    clock.now += 2
    watch.check()
    assert watch.state == "stopped"
    assert [m["state"] for m in said] == ["stopped"]
    assert said[0]["last_heard_at"] is None


def test_one_evaluator_of_two_falling_silent_is_not_a_stop_and_the_last_one_is() -> None:
    clock, said = Clock(), []
    watch = AlarmEvaluationWatch(stale_after_s=20, announce=said.append, clock=clock)
    watch.heard(beat("a:1"))
    watch.heard(beat("b:2"))
    assert [m["state"] for m in said] == ["running"]
    for _ in range(5):  # b keeps beating, a is gone
        clock.now += 10
        watch.heard(beat("b:2"))
        watch.check()
    assert watch.state == "running" and [e.name for e in watch.evaluators()] == ["b:2"]
    clock.now += 21
    watch.check()
    assert watch.state == "stopped" and watch.evaluators() == []
    watch.heard(beat("c:3"))  # a restarted process is a new evaluator
    assert [m["state"] for m in said] == ["running", "stopped", "running"]
    assert watch.status()["stopped_at"] is None


def test_a_watchdog_shorter_than_two_beats_and_a_tick_is_refused(settings: Settings) -> None:
    values = settings.model_dump() | {
        "alarm_heartbeat_s": 10.0,
        "alarm_tick_s": 2.0,
        "alarm_watchdog_s": 15.0,
    }
    with pytest.raises(ValidationError, match="OWNAT_ALARM_WATCHDOG_S"):
        Settings(_env_file=None, **values)  # type: ignore[call-arg]


# --- The evaluator's heartbeat -------------------------------------------------------------------


async def test_an_evaluator_beats_while_its_rounds_commit_and_not_while_its_database_is_away(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], redis_url: str, redis_prefix: str
) -> None:
    bus = create_bus(redis_url=redis_url, key_prefix=redis_prefix)
    # A database that refuses connections (nothing listens on port 1): every round fails to commit.
    away = create_engine("postgresql+psycopg://ownat@127.0.0.1:1/none?connect_timeout=2")
    try:
        async with bus.subscribe(channels=[ALARMS_EVALUATION]) as beats:
            healthy, stranded = evaluator(sessions, bus), evaluator(create_sessionmaker(away), bus)
            async with running(stranded):
                async with running(healthy):
                    heard: list[dict[str, Any]] = []
                    async with asyncio.timeout(RECEIVE_TIMEOUT_S):
                        async for message in beats:
                            if message.kind == "message":
                                heard.append(message.data)
                            if len(heard) >= 3:
                                break
                while stranded.stats.retries < 2:  # two rounds tried and not committed
                    async with asyncio.timeout(RECEIVE_TIMEOUT_S):
                        await stranded.round_done.wait()
        assert {beat["evaluator"] for beat in heard} == {healthy.heartbeat.name}
        assert heard[-1]["rounds"] >= heard[0]["rounds"]
        assert stranded.heartbeat.sent == 0
    finally:
        await away.dispose()
        await bus.close()


# --- Hubs and pages are told ---------------------------------------------------------------------


@asynccontextmanager
async def nurse_and_patient(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], url: str
) -> AsyncIterator[tuple[HubClient, HubClient, dict[str, Any]]]:
    """A nurse's socket and a patient's, signed in; yields both and the nurse's `ready`."""
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    patient, _ = await create_user(sessions, role=Role.PATIENT)
    async with hub_client(url, None) as staff, hub_client(url, None) as own:
        await staff.send(type="auth", token=token_for(nurse, settings))
        ready = await staff.receive_type("ready")
        await own.send(type="auth", token=token_for(patient, settings))
        patient_ready = await own.receive_type("ready")
        assert "alarm_evaluation" not in patient_ready  # patients do not answer alarms
        yield staff, own, ready


async def test_staff_sockets_are_told_when_alarm_evaluation_stops_and_when_it_is_back(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    config = watched(settings)
    async with (
        serve_app(config) as served,
        nurse_and_patient(config, sessions, served.url) as (staff, own, ready),
    ):
        assert ready["alarm_evaluation"]["state"] == "starting"
        watch = served.hub.alarm_watch
        metrics = served.hub.metrics.registry

        async with running(evaluator(sessions, served.bus)) as first:
            assert await next_evaluation_state(staff) == "running"
            assert metrics.get_sample_value("ownat_alarm_evaluation_running") == 1
        # Stopped as a crash would stop it: nothing is said; the silence is noticed.
        stopped = await next_evaluation_state(staff)
        assert stopped == "stopped"
        assert watch.status()["last_heard_at"] is not None
        assert metrics.get_sample_value("ownat_alarm_evaluation_running") == 0
        assert (metrics.get_sample_value("ownat_alarm_evaluation_silent_seconds") or 0) >= WATCHDOG_S

        # A page opened now learns it from its sign-in.
        async with hub_client(served.url, None) as late:
            nurse, _ = await create_user(sessions, role=Role.NURSE)
            await late.send(type="auth", token=token_for(nurse, config))
            assert (await late.receive_type("ready"))["alarm_evaluation"]["state"] == "stopped"

        async with running(evaluator(sessions, served.bus)) as second:
            assert await next_evaluation_state(staff) == "running"
            assert second.heartbeat.name == first.heartbeat.name  # same process: host:pid
        # The patient's socket heard none of it (pings aside, nothing came).
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await own.receive_type("alarm_evaluation")


async def test_the_system_status_names_the_evaluators_heard_and_says_when_none_is(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    config = watched(settings)
    admin, password = await create_user(sessions, role=Role.ADMIN)
    async with serve_app(config) as served, client_for(served.app) as http:
        headers = bearer((await login_tokens(http, admin.email, password))["access_token"])

        async def evaluation() -> dict[str, Any]:
            answer = await http.get("/api/v1/system/status", headers=headers)
            assert answer.status_code == 200, answer.text
            status: dict[str, Any] = answer.json()["alarm_evaluation"]
            return status

        async def until(state: str) -> dict[str, Any]:
            async with asyncio.timeout(RECEIVE_TIMEOUT_S):
                while (status := await evaluation())["state"] != state:  # noqa: ASYNC110 - as an admin refreshes
                    await asyncio.sleep(BEAT_S)
            return status

        async with running(evaluator(sessions, served.bus)) as live:
            heard = await until("running")
            assert [e["name"] for e in heard["evaluators"]] == [live.heartbeat.name]
            assert heard["stale_after_s"] == WATCHDOG_S
        gone = await until("stopped")
        assert gone["evaluators"] == [] and gone["last_heard_at"] is not None
