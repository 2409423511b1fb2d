"""When the live evaluator pushes a patient's NEWS2: a new band at once, a change within the band at
most once an interval but never dropped, and patients no longer evaluated forgotten."""

from __future__ import annotations

import uuid

from realtime.alarms.engine import Evaluation
from realtime.alarms.news2 import News2Inputs, score_news2
from realtime.alarms.news2_inputs import News2Result
from realtime.alarms.news2_pushes import News2Pushes

INTERVAL_S = 15.0


def scored(**values: float) -> Evaluation:
    result = News2Result(score_news2(News2Inputs(**values)), {}, None)
    return Evaluation(changes=[], limits={}, news2=result)


# Device values only (incomplete): totals 0, 1 and 2 are all low risk; 3 in one parameter is
# low-medium; 7 or more is high.
CALM = {"respiration_rate": 16, "spo2": 97, "pulse": 72}
CALM_BUT_ONE = {"respiration_rate": 16, "spo2": 97, "pulse": 95}  # pulse 91-110 scores 1
CALM_BUT_TWO = {"respiration_rate": 22, "spo2": 97, "pulse": 95}  # and breathing 21-24 scores 2
UNWELL = {"respiration_rate": 26, "spo2": 90, "pulse": 135}


def test_a_first_score_and_a_new_band_are_due_at_once() -> None:
    pushes = News2Pushes(interval_s=INTERVAL_S)
    patient = uuid.uuid4()
    pushes.evaluated(patient, scored(**CALM), now_s=100.0)
    assert list(pushes.take_due(now_s=100.0)) == [patient]
    pushes.evaluated(patient, scored(**UNWELL), now_s=101.0)
    due = pushes.take_due(now_s=101.0)
    assert due[patient].news2.score.risk != scored(**CALM).news2.score.risk


def test_the_same_score_again_is_not_pushed() -> None:
    pushes = News2Pushes(interval_s=INTERVAL_S)
    patient = uuid.uuid4()
    pushes.evaluated(patient, scored(**CALM), now_s=100.0)
    pushes.take_due(now_s=100.0)
    pushes.evaluated(patient, scored(respiration_rate=17, spo2=96, pulse=75), now_s=200.0)
    assert pushes.take_due(now_s=200.0) == {}


def test_a_change_within_the_band_waits_for_the_interval_and_is_then_pushed_without_a_new_evaluation() -> (
    None
):
    pushes = News2Pushes(interval_s=INTERVAL_S)
    patient = uuid.uuid4()
    pushes.evaluated(patient, scored(**CALM), now_s=100.0)
    pushes.take_due(now_s=100.0)
    pushes.evaluated(patient, scored(**CALM_BUT_ONE), now_s=105.0)
    pushes.evaluated(patient, scored(**CALM_BUT_TWO), now_s=106.0)
    assert pushes.take_due(now_s=106.0) == {}
    assert pushes.take_due(now_s=114.9) == {}
    # The interval is over: the latest of the held changes goes, although nothing was evaluated.
    due = pushes.take_due(now_s=115.0)
    assert due[patient].news2.score.total == 3
    assert pushes.take_due(now_s=200.0) == {}


def test_a_held_change_that_went_back_to_what_pages_show_is_not_pushed() -> None:
    pushes = News2Pushes(interval_s=INTERVAL_S)
    patient = uuid.uuid4()
    pushes.evaluated(patient, scored(**CALM), now_s=100.0)
    pushes.take_due(now_s=100.0)
    pushes.evaluated(patient, scored(**CALM_BUT_ONE), now_s=105.0)
    pushes.evaluated(patient, scored(**CALM), now_s=108.0)
    assert pushes.take_due(now_s=130.0) == {}


def test_a_new_band_overtakes_a_held_change() -> None:
    pushes = News2Pushes(interval_s=INTERVAL_S)
    patient = uuid.uuid4()
    pushes.evaluated(patient, scored(**CALM), now_s=100.0)
    pushes.take_due(now_s=100.0)
    pushes.evaluated(patient, scored(**CALM_BUT_ONE), now_s=105.0)
    pushes.evaluated(patient, scored(**UNWELL), now_s=106.0)
    due = pushes.take_due(now_s=106.0)
    assert due[patient].news2.score.total == scored(**UNWELL).news2.score.total
    # Nothing of the older change is left to go later.
    assert pushes.take_due(now_s=200.0) == {}


def test_a_failed_push_is_pushed_again_with_the_next_evaluation() -> None:
    pushes = News2Pushes(interval_s=INTERVAL_S)
    patient = uuid.uuid4()
    pushes.evaluated(patient, scored(**CALM), now_s=100.0)
    pushes.not_pushed(list(pushes.take_due(now_s=100.0)))
    pushes.evaluated(patient, scored(**CALM), now_s=101.0)
    assert list(pushes.take_due(now_s=101.0)) == [patient]


def test_patients_not_pushed_for_long_are_forgotten_and_pushed_at_once_when_seen_again() -> None:
    pushes = News2Pushes(interval_s=INTERVAL_S)
    gone, staying = uuid.uuid4(), uuid.uuid4()
    pushes.evaluated(gone, scored(**CALM), now_s=100.0)
    pushes.evaluated(staying, scored(**CALM), now_s=5_000.0)
    pushes.take_due(now_s=5_000.0)
    pushes.forget_older_than(1_000.0)
    assert len(pushes) == 1
    pushes.evaluated(gone, scored(**CALM), now_s=5_001.0)
    assert list(pushes.take_due(now_s=5_001.0)) == [gone]


def test_a_held_change_is_not_forgotten_before_it_is_pushed() -> None:
    pushes = News2Pushes(interval_s=INTERVAL_S)
    patient = uuid.uuid4()
    pushes.evaluated(patient, scored(**CALM), now_s=100.0)
    pushes.take_due(now_s=100.0)
    pushes.evaluated(patient, scored(**CALM_BUT_ONE), now_s=105.0)
    pushes.forget_older_than(110.0)
    assert list(pushes.take_due(now_s=115.0)) == [patient]
