"""The alarm policy on simulated time, without a database: condition delays, spikes, hysteresis,
latching per priority, sensor-off suppression, NEWS2 completeness and partial scores, a pulse rate judged as the heart rate."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from realtime.alarms.decisions import NEWS2_KEY, threshold_key
from realtime.alarms.defaults import HR, PULSE_RATE, RR, SBP, SPO2, TEMP, AgeGroup, default_limits
from realtime.alarms.models import AlarmPriority
from realtime.alarms.news2 import ClinicalRisk, Consciousness
from realtime.alarms.news2_inputs import ChartedObservation, score_latest
from realtime.alarms.policy import AlarmPolicy
from realtime.alarms.quiet import QuietPatients, Urgency
from realtime.alarms.replay import ReplayedPatient
from realtime.alarms.schemas import AlarmChange
from tests.realtime.alarm_builders import R

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SPO2_LOW = threshold_key(SPO2, "low")
ALERT_ON_AIR = ChartedObservation(uuid.uuid4(), Consciousness.ALERT, False, 1)
NORMAL = {HR: 72, RR: 15, SBP: 125, TEMP: 36.8}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def patient(**policy: object) -> ReplayedPatient:
    return ReplayedPatient(default_limits(AgeGroup.ADULT), policy=AlarmPolicy(**policy))  # type: ignore[arg-type]


def run(
    p: ReplayedPatient, spo2_by_second: dict[int, float | None], *, until: int
) -> list[tuple[int, str, str]]:
    """Feeds one SpO2 reading a second (None: no reading) plus steady others; (second, change, key)."""
    seen = []
    for second in range(until + 1):
        now = at(second)
        readings = [R(metric, value, now) for metric, value in NORMAL.items()]
        spo2 = spo2_by_second.get(second, 97.0)
        if spo2 is not None:
            readings.append(R(SPO2, spo2, now))
        seen += [(second, c.change, c.alarm.condition_key) for c in p.step(readings, now)]
    return seen


def test_a_transient_desaturation_raises_nothing() -> None:
    dip = {second: 86.0 for second in range(10, 22)}  # 12 s at 86 %, under the 20 s delay
    assert run(patient(), dip, until=120) == []


def test_an_isolated_spike_raises_nothing_even_without_a_reading_after_it() -> None:
    p = patient()
    spike_then_silence = {10: 80.0} | {second: None for second in range(11, 60)}
    assert run(p, spike_then_silence, until=60) == []


def test_a_sustained_desaturation_raises_once_after_its_delay() -> None:
    sustained = {second: 86.0 for second in range(10, 200)}
    raised = [(s, key) for s, change, key in run(patient(), sustained, until=120) if change == "raised"]
    # The SpO2 alarm after its 20 s delay; NEWS2 (a single red parameter) after its own minute.
    assert raised == [(30, SPO2_LOW), (70, NEWS2_KEY)]


def test_a_sustained_condition_raises_on_the_tick_without_a_new_reading() -> None:
    p = patient()
    # Readings at 0 s and 5 s only (a sparse home oximeter), then none: the tick raises at 20 s.
    for second in (0, 5):
        assert p.step([R(SPO2, 85, at(second))], at(second)) == []
    assert p.step([], at(15)) == []
    (change,) = [c for c in p.step([], at(20)) if c.alarm.condition_key == SPO2_LOW]
    assert change.change == "raised"


def test_an_implausible_value_neither_starts_nor_ends_a_condition() -> None:
    p = patient()
    for second in range(0, 12):
        value = 400.0 if second == 5 else 150.0  # a loose lead counting noise as beats, once
        p.step([R(HR, value, at(second))], at(second))
    assert threshold_key(HR, "high") in p.open_alarms


def test_an_alarm_ends_only_after_the_hysteresis() -> None:
    p = patient(latching=frozenset())
    changes = run(p, {second: 86.0 for second in range(0, 40)}, until=39)
    assert (20, "raised", SPO2_LOW) in changes
    # Back in range from 40 s: still open at 69 s (30 s hysteresis), resolved at 70 s.
    for second in range(40, 70):
        assert [
            c for c in p.step([R(SPO2, 97, at(second))], at(second)) if c.alarm.condition_key == SPO2_LOW
        ] == []
    (resolved,) = [c for c in p.step([R(SPO2, 97, at(70))], at(70)) if c.alarm.condition_key == SPO2_LOW]
    assert (resolved.change, resolved.alarm.status) == ("resolved", "resolved")


def test_a_condition_back_within_the_hysteresis_continues_the_same_alarm() -> None:
    p = patient(latching=frozenset())
    for second in range(0, 25):
        p.step([R(SPO2, 86, at(second))], at(second))
    alarm = p.open_alarms[SPO2_LOW]
    for second in range(25, 40):
        p.step([R(SPO2, 96, at(second))], at(second))
    for second in range(40, 45):
        assert [c.change for c in p.step([R(SPO2, 86, at(second))], at(second))] == []
    assert p.open_alarms[SPO2_LOW] is alarm and "condition_clear_since" not in alarm.detail


def test_an_ended_high_alarm_latches_until_acknowledged() -> None:
    p = patient()  # high latches by default
    for second in range(0, 25):
        p.step([R(SPO2, 86, at(second))], at(second))
    changes = []
    for second in range(25, 100):
        changes += p.step([R(SPO2, 97, at(second))], at(second))
    (ended,) = [c for c in changes if c.alarm.condition_key == SPO2_LOW]
    assert ended.change == "updated" and ended.alarm.status == "raised"
    assert ended.alarm.condition_ended_at == at(25)
    p.acknowledge([SPO2_LOW], at(100))
    assert SPO2_LOW not in p.open_alarms


def test_latching_is_a_setting_per_priority() -> None:
    limits = default_limits(AgeGroup.ADULT)
    limits[SPO2] = replace(limits[SPO2], priority=AlarmPriority.MEDIUM)
    for latching, expected in (
        (frozenset({AlarmPriority.HIGH}), "resolved"),
        (frozenset(AlarmPriority), "updated"),
    ):
        p = ReplayedPatient(limits, policy=AlarmPolicy(latching=latching))
        for second in range(0, 25):
            p.step([R(SPO2, 86, at(second))], at(second))
        changes = []
        for second in range(25, 100):
            changes += p.step([R(SPO2, 97, at(second))], at(second))
        assert [c.change for c in changes if c.alarm.condition_key == SPO2_LOW] == [expected]


def test_an_acknowledged_alarm_resolves_when_its_condition_ends() -> None:
    p = patient()
    for second in range(0, 25):
        p.step([R(SPO2, 86, at(second))], at(second))
    p.acknowledge([SPO2_LOW], at(25))
    changes = []
    for second in range(25, 100):
        changes += p.step([R(SPO2, 97, at(second))], at(second))
    assert [c.change for c in changes if c.alarm.condition_key == SPO2_LOW] == ["resolved"]


def test_a_sensor_off_device_raises_no_alarm_of_its_metrics() -> None:
    p = patient()
    p.suppressed = {SPO2}  # the device's sensor-off alarm is open
    assert run(p, {second: 70.0 for second in range(0, 120)}, until=119) == []
    p.suppressed = set()  # probe back on: a real desaturation still raises
    raised = []
    for second in range(120, 150):
        raised += [
            c.alarm.condition_key
            for c in p.step([R(SPO2, 70, at(second))], at(second))
            if c.change == "raised"
        ]
    assert raised == [SPO2_LOW]


def test_a_sensor_going_off_ends_its_metrics_alarms() -> None:
    p = patient(latching=frozenset())
    for second in range(0, 25):
        p.step([R(SPO2, 86, at(second))], at(second))
    p.suppressed = {SPO2}
    changes = []
    for second in range(25, 60):
        changes += p.step([], at(second))
    assert [c.change for c in changes if c.alarm.condition_key == SPO2_LOW] == ["resolved"]


def test_news2_is_complete_only_with_every_value_inside_its_window() -> None:
    vitals = [(RR, 15, at(0)), (SPO2, 97, at(0)), (SBP, 125, at(0)), (HR, 72, at(0)), (TEMP, 36.8, at(0))]
    fresh = score_latest(vitals, ALERT_ON_AIR, now=at(60), freshness=timedelta(minutes=15))
    assert fresh.score.complete
    stale = score_latest(vitals, ALERT_ON_AIR, now=at(16 * 60), freshness=timedelta(minutes=15))
    assert set(stale.score.missing) == {"respiration_rate", "spo2", "systolic_bp", "pulse", "temperature"}
    device_only = score_latest(vitals, None, now=at(60))
    assert set(device_only.score.missing) == {"air_or_oxygen", "consciousness"}


def test_the_charting_window_is_a_setting() -> None:
    policy = AlarmPolicy(observation_validity_s=3600)
    assert policy.observation_validity == timedelta(hours=1)
    assert AlarmPolicy().observation_validity == timedelta(hours=12)
    assert AlarmPolicy().vitals_validity == timedelta(minutes=15)


def test_a_partial_score_raises_what_its_parameters_justify_and_then_ends() -> None:
    p = patient(latching=frozenset())
    # Device values only (no charting): RR 26 (3) is a single red parameter, held: medium NEWS2.
    changes = []
    for second in range(0, 80):
        changes += p.step([R(RR, 26, at(second)), R(HR, 80, at(second))], at(second))
    (news2,) = [c for c in changes if c.alarm.condition_key == NEWS2_KEY]
    assert (news2.change, news2.alarm.priority, news2.alarm.detail["complete"]) == ("raised", "medium", False)
    # The breathing settles: the partial score is low again, so the alarm ends after its hysteresis.
    changes = []
    for second in range(80, 80 + 130):
        changes += p.step([R(RR, 16, at(second)), R(HR, 80, at(second))], at(second))
    assert [c.change for c in changes if c.alarm.condition_key == NEWS2_KEY] == ["resolved"]
    assert NEWS2_KEY not in p.open_alarms


def test_a_value_wavering_at_the_limit_still_raises_within_the_delay_and_its_gaps() -> None:
    # Worsening at the limit: every third reading is back in range (noise), the rest are under it.
    wavering = {second: (93.0 if second % 3 == 0 else 91.0) for second in range(10, 200)}
    raised = [
        s for s, change, key in run(patient(), wavering, until=60) if change == "raised" and key == SPO2_LOW
    ]
    assert raised == [31]  # 30 s is a reading back in range: the first one under it after 20 s


HR_HIGH = threshold_key(HR, "high")


def heart_rate_alarms(changes: list[AlarmChange]) -> list[tuple[str, str]]:
    return [(c.change, c.alarm.code) for c in changes if c.alarm.condition_key.startswith("threshold:")]


def test_a_pulse_rate_alone_raises_the_heart_rate_alarm_when_sustained() -> None:
    p = patient()  # adult: heart rate high above 130, 10 s delay
    changes = []
    for second in range(0, 30):  # an oximeter alone: SpO2 and its pulse rate, no ECG
        changes += p.step([R(SPO2, 97, at(second)), R(PULSE_RATE, 150, at(second))], at(second))
    assert heart_rate_alarms(changes) == [("raised", HR)]
    assert p.open_alarms[HR_HIGH].value == 150


def test_a_transient_pulse_rate_alone_raises_nothing() -> None:
    p = patient()
    changes = []
    for second in range(0, 60):
        pulse = 150 if 5 <= second < 10 else 80  # 5 s, under the heart rate's 10 s delay
        changes += p.step([R(PULSE_RATE, pulse, at(second))], at(second))
    assert heart_rate_alarms(changes) == []


def test_with_a_current_heart_rate_the_pulse_rate_raises_no_second_alarm() -> None:
    p = patient()
    changes = []
    for second in range(0, 60):  # a monitor sending both: the ECG normal, the pleth counting fast
        readings = [R(HR, 80, at(second)), R(PULSE_RATE, 150, at(second))]
        changes += p.step(list(reversed(readings)) if second % 2 else readings, at(second))
    assert heart_rate_alarms(changes) == []
    p = patient()
    changes = []
    for second in range(0, 60):  # both fast: one heart-rate alarm, not two
        changes += p.step([R(HR, 150, at(second)), R(PULSE_RATE, 150, at(second))], at(second))
    assert heart_rate_alarms(changes) == [("raised", HR)]


def test_the_pulse_rate_stands_in_once_the_heart_rate_is_no_longer_current() -> None:
    p = patient()
    raised = []
    for second in range(0, 80):
        readings = [R(PULSE_RATE, 150, at(second))]
        if second < 20:  # the ECG leads come off at 20 s; its last value counts for 15 s more
            readings.append(R(HR, 80, at(second)))
        raised += [(second, c.alarm.code) for c in p.step(readings, at(second)) if c.change == "raised"]
    # Judged from 35 s (heart rate no longer current), raised after the heart rate's 10 s delay.
    assert raised == [(45, HR)]


def is_quiet(quiet: QuietPatients, patient_id: uuid.UUID, values: dict[str, float], *, now_s: float) -> bool:
    """True when these latest values cannot change any alarm of the patient."""
    return quiet.urgency(patient_id, values, now_s=now_s) is Urgency.QUIET


def test_a_pulse_rate_crossing_the_heart_rate_limits_is_never_skipped_as_quiet() -> None:
    limits = default_limits(AgeGroup.ADULT)
    limits[HR] = replace(limits[HR], high=110)  # a clinician's limit, under NEWS2's red band
    quiet, patient_id = QuietPatients(full_every_s=600), uuid.uuid4()
    quiet.evaluated(patient_id, {PULSE_RATE: 80}, limits=limits, news2_risk=ClinicalRisk.LOW, now_s=0)
    assert is_quiet(quiet, patient_id, {PULSE_RATE: 82}, now_s=1)
    assert not is_quiet(quiet, patient_id, {PULSE_RATE: 115}, now_s=1)


def wavering(p: ReplayedPatient, in_band: list[tuple[int, int]], *, until: int) -> list[int]:
    """Seconds at which a NEWS2 alarm was raised, the score 5 (medium) inside `in_band` spans, else 4."""
    raised = []
    for second in range(until + 1):
        now = at(second)
        hr = 95 if any(start <= second < end for start, end in in_band) else 88  # 1 point, or none
        values = {HR: hr, RR: 22, SPO2: 94, SBP: 125, TEMP: 38.5}  # 2 + 1 + 0 + 1 from the rest
        changes = p.step([R(metric, value, now) for metric, value in values.items()], now)
        raised += [second for c in changes if c.change == "raised" and c.alarm.condition_key == NEWS2_KEY]
    return raised


def charted_patient() -> ReplayedPatient:
    return ReplayedPatient(default_limits(AgeGroup.ADULT), observation=ALERT_ON_AIR)


def test_a_news2_band_wavering_at_its_edge_raises_once_its_time_in_the_band_adds_up() -> None:
    # 21 s in the medium band, 39 s under it, again and again: a hold reset by each dip never raised.
    spans = [(0, 21), (60, 81), (120, 141), (180, 201)]
    raised = wavering(charted_patient(), spans, until=240)
    # The third span brings the time in the band to the 60 s delay; the dips do not count.
    assert raised and 120 <= raised[0] < 141


def test_a_news2_band_gone_for_longer_than_the_gap_starts_its_hold_again() -> None:
    # 40 s in the band, 150 s under it (over the 120 s gap), 40 s in the band: never 60 s in a row.
    assert wavering(charted_patient(), [(0, 40), (190, 230)], until=260) == []
