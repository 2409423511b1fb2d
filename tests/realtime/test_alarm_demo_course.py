"""The demo's monitors through the alarm decisions: stable patients raise nothing physiological in
their first 30 minutes, artefacts and all; the deteriorating one raises within a minute of onset
(30-45 s: the sepsis course needs ~20 s of demo time to take the breathing rate over its limit,
then the limit's condition delay)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devices.simulator import DEMO_TIME_SCALE, SimulatedDevice, simulate
from devices.simulator.artefacts import ArtefactRates
from realtime.alarms.defaults import AgeGroup, default_limits
from realtime.alarms.models import AlarmKind
from realtime.alarms.replay import ReplayedPatient

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ONSET_S = 5.0


def test_stable_demo_patients_stay_quiet_and_the_deteriorating_one_alarms_within_a_minute() -> None:
    devices = [
        SimulatedDevice(
            "demo-sick", scenario="sepsis", onset_s=ONSET_S, time_scale=DEMO_TIME_SCALE, age_years=70
        )
    ] + [SimulatedDevice(f"demo-{n}", age_years=40 + 5 * n) for n in range(6)]
    patients = {
        d.device_id: ReplayedPatient(
            default_limits(AgeGroup.OLDER_ADULT if (d.age_years or 0) >= 65 else AgeGroup.ADULT)
        )
        for d in devices
    }
    raised: dict[str, list[datetime]] = {d.device_id: [] for d in devices}
    rates = ArtefactRates()  # the demo's own: motion, probe off, lost readings
    for device_id, message in simulate(
        devices, START, 1.0, seed=7, artefacts=rates, until=START + timedelta(minutes=30)
    ):
        now = message.readings[0].time
        for change in patients[device_id].step(message.readings, now):
            if change.change == "raised" and change.alarm.kind in (AlarmKind.THRESHOLD, AlarmKind.NEWS2):
                raised[device_id].append(now)
    assert {d: times for d, times in raised.items() if d != "demo-sick" and times} == {}
    assert raised["demo-sick"], "the deteriorating patient raised nothing"
    assert raised["demo-sick"][0] <= START + timedelta(seconds=ONSET_S + 60)
