"""The device simulator: deterministic, physiologically valid, clinically plausible courses, artefacts."""

from __future__ import annotations

import itertools
import statistics
import threading
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from devices.protocol import METRICS_BY_KEY, VitalsMessage, decode_vitals, encode, metric_spec
from devices.simulator import (
    DEMO_TIME_SCALE,
    DEVICE_KINDS,
    SCENARIO_NAMES,
    ArtefactRates,
    SimulatedDevice,
    demo_ward,
    paced,
    paced_blocking,
    simulate,
)
from realtime.alarms.news2 import Consciousness, News2Inputs, score_news2

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CLEAN = ArtefactRates.none()
Series = dict[str, list[tuple[datetime, float]]]


def series(stream: Iterable[tuple[str, VitalsMessage]], device_id: str) -> Series:
    """Per metric alias, the (time, value) readings of one device."""
    result: Series = defaultdict(list)
    for device, message in stream:
        if device == device_id:
            for reading in message.readings:
                result[METRICS_BY_KEY[reading.metric].alias].append((reading.time, reading.value))
    return result


def mean_between(points: list[tuple[datetime, float]], start: datetime, end: datetime) -> float:
    return statistics.fmean(value for time, value in points if start <= time < end)


def news2_at(data: Series, time: datetime) -> int:
    """NEWS2 from each metric's latest reading at `time` (patient alert, on room air)."""

    def latest(alias: str) -> float:
        return [value for moment, value in data[alias] if moment <= time][-1]

    inputs = News2Inputs(
        respiration_rate=latest("rr"),
        spo2=latest("spo2"),
        on_oxygen=False,
        systolic_bp=latest("sbp"),
        pulse=latest("hr"),
        consciousness=Consciousness.ALERT,
        temperature_c=latest("temp"),
    )
    return score_news2(inputs).total


def test_the_same_seed_gives_the_same_messages_and_another_seed_does_not() -> None:
    devices = [SimulatedDevice(f"bed-{n}", scenario="sepsis", time_scale=60) for n in range(3)]
    until = START + timedelta(minutes=10)

    def run(seed: int) -> list[bytes]:
        return [encode(message) for _, message in simulate(devices, START, 1.0, seed=seed, until=until)]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_a_device_keeps_its_values_whatever_other_devices_are_simulated() -> None:
    alone = series(
        simulate([SimulatedDevice("bed-a")], START, 5.0, until=START + timedelta(hours=1)), "bed-a"
    )
    crowd = [SimulatedDevice("bed-0"), SimulatedDevice("bed-a"), SimulatedDevice("bed-z", kind="scale")]
    among_others = series(simulate(crowd, START, 5.0, until=START + timedelta(hours=1)), "bed-a")

    assert alone == among_others


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_every_message_passes_the_wire_validation(scenario: str) -> None:
    devices = [
        SimulatedDevice(f"{kind}-{age}", kind=kind, scenario=scenario, time_scale=600, age_years=age)
        for kind in DEVICE_KINDS
        for age in (2, 30, 88)
    ]
    rates = ArtefactRates(motion=0.05, probe_off=0.02, missing=0.02)
    # Two hours at a time scale of 600: the whole course of every scenario, and beyond.
    until = START + timedelta(hours=2)
    seqs: dict[str, int] = {}
    for device_id, message in simulate(devices, START, 10.0, seed=3, artefacts=rates, until=until):
        decoded = decode_vitals(encode(message), now=until)
        assert decoded.model_dump() == message.model_dump()
        assert decoded.seq == seqs.get(device_id, -1) + 1
        seqs[device_id] = decoded.seq
        for reading in decoded.readings:
            spec = metric_spec(reading.metric)
            assert spec.minimum <= reading.value <= spec.maximum
    assert seqs.keys() == {device.device_id for device in devices}


def test_sepsis_raises_heart_and_breathing_rate_lowers_pressure_and_news2() -> None:
    # Twelve clinical hours in two hours of simulated time.
    device = SimulatedDevice(
        "septic", scenario="sepsis", time_scale=6, age_years=55, intervals_s={"sbp": 60, "dbp": 60}
    )
    stable = SimulatedDevice("stable", age_years=55)
    stream = list(simulate([device, stable], START, 5.0, artefacts=CLEAN, until=START + timedelta(hours=2)))
    data = series(stream, "septic")
    first = (START, START + timedelta(minutes=10))
    late = (START + timedelta(hours=1, minutes=30), START + timedelta(hours=2))

    assert mean_between(data["hr"], *late) > mean_between(data["hr"], *first) + 30
    assert mean_between(data["rr"], *late) > mean_between(data["rr"], *first) + 8
    assert mean_between(data["sbp"], *late) < mean_between(data["sbp"], *first) - 20
    assert mean_between(data["spo2"], *late) < mean_between(data["spo2"], *first) - 2
    assert news2_at(data, START + timedelta(minutes=5)) <= 2
    assert news2_at(data, START + timedelta(hours=2)) >= 7
    calm = series(stream, "stable")
    assert news2_at(calm, START + timedelta(hours=2)) <= 3


def test_septic_shock_turns_fever_into_hypothermia() -> None:
    device = SimulatedDevice("shock", scenario="septic_shock", time_scale=3600, intervals_s={"temp": 1})
    data = series(
        simulate([device], START, 1.0, artefacts=CLEAN, until=START + timedelta(seconds=12)), "shock"
    )
    temps = dict(data["temp"])

    baseline = temps[START]
    assert temps[START + timedelta(seconds=3)] > baseline + 1.0
    assert temps[START + timedelta(seconds=10)] < min(baseline - 1.2, 36.0)


@pytest.mark.parametrize(
    ("scenario", "rises", "falls"),
    [("respiratory_failure", ["rr", "hr"], ["spo2"]), ("hypotension", ["hr"], ["sbp", "dbp"])],
)
def test_other_deteriorations_move_the_expected_signs(
    scenario: str, rises: list[str], falls: list[str]
) -> None:
    device = SimulatedDevice("patient", scenario=scenario, time_scale=60, intervals_s={"sbp": 5, "dbp": 5})
    data = series(
        simulate([device], START, 5.0, artefacts=CLEAN, until=START + timedelta(minutes=8)), "patient"
    )
    first = (START, START + timedelta(minutes=1))
    late = (START + timedelta(minutes=6), START + timedelta(minutes=8))

    for alias in rises:
        assert mean_between(data[alias], *late) > mean_between(data[alias], *first), alias
    for alias in falls:
        assert mean_between(data[alias], *late) < mean_between(data[alias], *first), alias


def test_the_scenario_waits_for_its_onset() -> None:
    device = SimulatedDevice(
        "later", scenario="hypotension", onset_s=1800, time_scale=20, intervals_s={"sbp": 10}
    )
    data = series(simulate([device], START, 10.0, artefacts=CLEAN, until=START + timedelta(hours=1)), "later")
    before = (START, START + timedelta(minutes=29))
    after = (START + timedelta(minutes=45), START + timedelta(hours=1))

    assert (
        abs(
            mean_between(data["sbp"], *before)
            - mean_between(data["sbp"], START, START + timedelta(minutes=5))
        )
        < 8
    )
    assert mean_between(data["sbp"], *after) < mean_between(data["sbp"], *before) - 25


def test_heart_rate_and_temperature_are_lower_at_night() -> None:
    devices = [SimulatedDevice(f"bed-{n}") for n in range(6)]
    midnight = datetime(2026, 3, 2, tzinfo=UTC)
    stream = list(simulate(devices, midnight, 120.0, artefacts=CLEAN, until=midnight + timedelta(days=1)))
    night = (midnight + timedelta(hours=2), midnight + timedelta(hours=6))
    afternoon = (midnight + timedelta(hours=14), midnight + timedelta(hours=18))

    for alias, margin in (("hr", 5.0), ("temp", 0.3)):
        by_device = [series(stream, device.device_id)[alias] for device in devices]
        assert statistics.fmean(mean_between(s, *afternoon) for s in by_device) > margin + statistics.fmean(
            mean_between(s, *night) for s in by_device
        ), alias


def test_artefacts_appear_at_the_configured_rates() -> None:
    devices = [SimulatedDevice(f"bed-{n}") for n in range(10)]
    until = START + timedelta(minutes=30)
    clean = {
        (device, reading.metric, reading.time): reading.value
        for device, message in simulate(devices, START, 1.0, artefacts=CLEAN, until=until)
        for reading in message.readings
    }
    rates = ArtefactRates(motion=0.02, probe_off=0.0, missing=0.05)
    noisy = {
        (device, reading.metric, reading.time): reading.value
        for device, message in simulate(devices, START, 1.0, artefacts=rates, until=until)
        for reading in message.readings
    }
    missing = len(clean.keys() - noisy.keys()) / len(clean)
    heart_and_oxygen = [key for key in noisy if METRICS_BY_KEY[key[1]].alias in ("hr", "spo2")]
    # Physiology has its own random stream, so any changed value is an artefact.
    distorted = sum(1 for key in heart_and_oxygen if noisy[key] != clean[key]) / len(heart_and_oxygen)

    assert len(clean) > 50_000
    assert 0.045 < missing < 0.055
    assert 0.017 < distorted < 0.023
    assert set(noisy.keys()) <= set(clean.keys())


def test_probe_off_hides_spo2_for_a_while() -> None:
    device = SimulatedDevice("oximeter", kind="pulse_oximeter")
    rates = ArtefactRates(motion=0.0, probe_off=0.01, missing=0.0)
    data = series(
        simulate([device], START, 1.0, artefacts=rates, until=START + timedelta(hours=1)), "oximeter"
    )
    times = [time for time, _ in data["spo2"]]
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(times)]

    assert max(gaps) >= 10
    # A pulse oximeter derives the pulse from the same probe: no pulse while it is off.
    assert [time for time, _ in data["hr"]] == times


def test_device_kinds_measure_their_metrics_at_their_intervals() -> None:
    kinds = {kind: SimulatedDevice(f"dev-{kind}", kind=kind) for kind in DEVICE_KINDS}
    until = START + timedelta(hours=1)
    stream = list(simulate(list(kinds.values()), START, 1.0, artefacts=CLEAN, until=until))
    counts = {
        kind: {alias: len(points) for alias, points in series(stream, d.device_id).items()}
        for kind, d in kinds.items()
    }

    # One reading at the start and then one per interval, through the last second inclusive.
    assert counts["bedside_monitor"] == {
        "hr": 3601,
        "spo2": 3601,
        "rr": 3601,
        "sbp": 13,
        "dbp": 13,
        "temp": 61,
    }
    assert counts["pulse_oximeter"] == {"spo2": 3601, "hr": 3601}
    assert counts["bp_cuff"] == {"sbp": 5, "dbp": 5, "hr": 5}
    assert counts["thermometer"] == {"temp": 3}
    assert counts["scale"] == {"weight": 1}


def test_children_get_age_appropriate_vital_signs() -> None:
    child, adult = SimulatedDevice("child", age_years=2), SimulatedDevice("adult", age_years=40)
    stream = list(simulate([child, adult], START, 10.0, artefacts=CLEAN, until=START + timedelta(hours=1)))
    window = (START, START + timedelta(hours=1))

    for alias in ("hr", "rr"):
        assert (
            mean_between(series(stream, "child")[alias], *window)
            > mean_between(series(stream, "adult")[alias], *window) + 10
        )


def test_the_first_demo_patient_reaches_a_high_news2_within_a_minute() -> None:
    ward = demo_ward(4)
    stream = list(simulate(ward, START, 1.0, artefacts=CLEAN, until=START + timedelta(seconds=60)))

    assert ward[0].time_scale == DEMO_TIME_SCALE
    assert news2_at(series(stream, ward[0].device_id), START + timedelta(seconds=60)) >= 7
    for calm in ward[1:]:
        assert news2_at(series(stream, calm.device_id), START + timedelta(seconds=60)) <= 3


def test_invalid_devices_are_refused() -> None:
    with pytest.raises(ValueError, match="topic id"):
        SimulatedDevice("bad/id")
    with pytest.raises(ValueError, match="unknown scenario"):
        SimulatedDevice("bed", scenario="flu")
    with pytest.raises(ValueError, match="does not measure"):
        SimulatedDevice("scale", kind="scale", intervals_s={"hr": 5})
    with pytest.raises(ValueError, match="unique"):
        list(simulate([SimulatedDevice("twin"), SimulatedDevice("twin")], START))


async def test_paced_keeps_the_order_of_the_stream() -> None:
    devices = [SimulatedDevice("a"), SimulatedDevice("b")]
    until = START + timedelta(seconds=20)
    expected = [(d, m.seq) for d, m in simulate(devices, START, 1.0, until=until)]

    received = [(d, m.seq) async for d, m in paced(simulate(devices, START, 1.0, until=until), speed=1000)]

    assert received == expected


def test_paced_blocking_ends_when_told_to_stop() -> None:
    stop = threading.Event()
    received = []
    # Forever, in real time: only the stop event ends it.
    for device_id, message in paced_blocking(simulate([SimulatedDevice("a")], START, 1.0), stop=stop):
        received.append((device_id, message.seq))
        stop.set()

    assert received == [("a", 0)]
