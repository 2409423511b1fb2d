"""NEWS2 against the Royal College of Physicians chart: every band edge of every parameter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from realtime.alarms.defaults import HR, PULSE_RATE, SPO2
from realtime.alarms.news2 import (
    ClinicalRisk,
    Consciousness,
    News2Inputs,
    SpO2Scale,
    clinical_risk,
    score_air_or_oxygen,
    score_consciousness,
    score_news2,
    score_pulse,
    score_respiration_rate,
    score_spo2,
    score_systolic_bp,
    score_temperature,
)
from realtime.alarms.news2_inputs import score_latest


@pytest.mark.parametrize(
    ("rate", "score"),
    [
        (0, 3),
        (8, 3),
        (9, 1),
        (11, 1),
        (12, 0),
        (20, 0),
        (21, 2),
        (24, 2),
        (25, 3),
        (60, 3),
        (8.4, 3),
        (8.5, 1),
    ],
)
def test_respiration_rate(rate: float, score: int) -> None:
    assert score_respiration_rate(rate) == score


@pytest.mark.parametrize(
    ("saturation", "score"),
    [(70, 3), (91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0), (95.5, 0)],
)
@pytest.mark.parametrize("on_oxygen", [False, True])
def test_spo2_scale_1_ignores_oxygen(saturation: float, score: int, on_oxygen: bool) -> None:
    assert score_spo2(saturation, on_oxygen=on_oxygen, scale=SpO2Scale.SCALE_1) == score


@pytest.mark.parametrize(
    ("saturation", "on_air", "on_oxygen"),
    [
        (80, 3, 3),
        (83, 3, 3),
        (84, 2, 2),
        (85, 2, 2),
        (86, 1, 1),
        (87, 1, 1),
        (88, 0, 0),
        (92, 0, 0),
        (93, 0, 1),
        (94, 0, 1),
        (95, 0, 2),
        (96, 0, 2),
        (97, 0, 3),
        (100, 0, 3),
    ],
)
def test_spo2_scale_2(saturation: int, on_air: int, on_oxygen: int) -> None:
    assert score_spo2(saturation, on_oxygen=False, scale=SpO2Scale.SCALE_2) == on_air
    assert score_spo2(saturation, on_oxygen=True, scale=SpO2Scale.SCALE_2) == on_oxygen


def test_air_or_oxygen() -> None:
    assert score_air_or_oxygen(False) == 0
    assert score_air_or_oxygen(True) == 2


@pytest.mark.parametrize(
    ("pressure", "score"),
    [(60, 3), (90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3), (260, 3)],
)
def test_systolic_bp(pressure: int, score: int) -> None:
    assert score_systolic_bp(pressure) == score


@pytest.mark.parametrize(
    ("rate", "score"),
    [
        (30, 3),
        (40, 3),
        (41, 1),
        (50, 1),
        (51, 0),
        (90, 0),
        (91, 1),
        (110, 1),
        (111, 2),
        (130, 2),
        (131, 3),
        (90.5, 1),
    ],
)
def test_pulse(rate: float, score: int) -> None:
    assert score_pulse(rate) == score


@pytest.mark.parametrize(
    ("level", "score"),
    [
        (Consciousness.ALERT, 0),
        (Consciousness.NEW_CONFUSION, 3),
        (Consciousness.VOICE, 3),
        (Consciousness.PAIN, 3),
        (Consciousness.UNRESPONSIVE, 3),
    ],
)
def test_consciousness(level: Consciousness, score: int) -> None:
    assert score_consciousness(level) == score


@pytest.mark.parametrize(
    ("celsius", "score"),
    [
        (33.0, 3),
        (35.0, 3),
        (35.04, 3),
        (35.1, 1),
        (36.0, 1),
        (36.1, 0),
        (38.0, 0),
        (38.1, 1),
        (39.0, 1),
        (39.1, 2),
        (41.0, 2),
        (36.05, 0),
    ],
)
def test_temperature(celsius: float, score: int) -> None:
    assert score_temperature(celsius) == score


@pytest.mark.parametrize(
    ("total", "scores", "risk"),
    [
        (0, {"pulse": 0}, ClinicalRisk.LOW),
        (4, {"pulse": 2, "temperature": 2}, ClinicalRisk.LOW),
        (3, {"consciousness": 3}, ClinicalRisk.LOW_MEDIUM),
        (4, {"consciousness": 3, "pulse": 1}, ClinicalRisk.LOW_MEDIUM),
        (5, {"pulse": 2, "temperature": 2, "spo2": 1}, ClinicalRisk.MEDIUM),
        (6, {"consciousness": 3, "systolic_bp": 3}, ClinicalRisk.MEDIUM),
        (7, {"pulse": 3, "spo2": 2, "temperature": 2}, ClinicalRisk.HIGH),
        (20, {"pulse": 3}, ClinicalRisk.HIGH),
    ],
)
def test_clinical_risk_bands(total: int, scores: dict[str, int], risk: ClinicalRisk) -> None:
    assert clinical_risk(total, scores) is risk


def test_healthy_adult_scores_zero() -> None:
    inputs = News2Inputs(
        respiration_rate=16,
        spo2=97,
        on_oxygen=False,
        systolic_bp=124,
        pulse=72,
        consciousness=Consciousness.ALERT,
        temperature_c=36.8,
    )
    score = score_news2(inputs)
    assert (score.total, score.risk, score.complete) == (0, ClinicalRisk.LOW, True)


def test_septic_patient_scores_high() -> None:
    # RR 24 (2), SpO2 92% scale 1 (2), oxygen (2), SBP 98 (2), pulse 118 (2), alert (0), 38.6 C (1).
    inputs = News2Inputs(
        respiration_rate=24,
        spo2=92,
        on_oxygen=True,
        systolic_bp=98,
        pulse=118,
        consciousness=Consciousness.ALERT,
        temperature_c=38.6,
    )
    score = score_news2(inputs)
    assert score.total == 11 and score.risk is ClinicalRisk.HIGH
    assert score.parameter_scores == {
        "respiration_rate": 2,
        "spo2": 2,
        "air_or_oxygen": 2,
        "systolic_bp": 2,
        "pulse": 2,
        "consciousness": 0,
        "temperature": 1,
    }


def test_missing_parameters_are_named_and_not_invented() -> None:
    score = score_news2(News2Inputs(pulse=135, spo2=97))
    assert score.parameter_scores == {"pulse": 3, "spo2": 0}
    assert set(score.missing) == {
        "respiration_rate",
        "air_or_oxygen",
        "systolic_bp",
        "consciousness",
        "temperature",
    }
    assert not score.complete and score.risk is ClinicalRisk.LOW_MEDIUM


def test_scale_2_needs_to_know_about_oxygen() -> None:
    score = score_news2(News2Inputs(spo2=95, spo2_scale=SpO2Scale.SCALE_2))
    assert "spo2" in score.missing and "spo2" not in score.parameter_scores


def test_pulse_is_the_heart_rate_else_the_pulse_rate_of_an_oximeter() -> None:
    # An oximeter sends a pulse rate (8889-8), no ECG heart rate (8867-4): NEWS2 still has a pulse.
    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    oximeter_only = [(PULSE_RATE, 135.0, now - timedelta(minutes=2)), (SPO2, 97.0, now)]
    result = score_latest(oximeter_only, None, now=now)
    assert result.values["pulse"] == 135.0 and result.score.parameter_scores["pulse"] == 3
    # With both, the ECG's heart rate counts; a stale one gives way to a fresh pulse rate.
    both = [(HR, 72.0, now), (PULSE_RATE, 135.0, now)]
    assert score_latest(both, None, now=now).values["pulse"] == 72.0
    stale_ecg = [(HR, 72.0, now - timedelta(hours=2)), (PULSE_RATE, 88.0, now)]
    assert score_latest(stale_ecg, None, now=now).values["pulse"] == 88.0
    assert "pulse" in score_latest([(SPO2, 97.0, now)], None, now=now).score.missing
