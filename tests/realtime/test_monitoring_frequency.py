"""The RCP monitoring frequency for each NEWS2 band, and when a full set is overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from realtime.alarms.monitoring_frequency import Frequency, monitoring_frequency, schedule

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("total", "scores", "expected"),
    [
        (0, {"pulse": 0}, Frequency.TWELVE_HOURLY),
        (1, {"pulse": 1}, Frequency.FOUR_TO_SIX_HOURLY),
        (4, {"pulse": 2, "temperature": 2}, Frequency.FOUR_TO_SIX_HOURLY),
        (3, {"consciousness": 3}, Frequency.HOURLY),  # a single red parameter
        (5, {"pulse": 2, "spo2": 3}, Frequency.HOURLY),
        (6, {"pulse": 2, "spo2": 2, "temperature": 2}, Frequency.HOURLY),
        (7, {"pulse": 3, "spo2": 2, "temperature": 2}, Frequency.CONTINUOUS),
        (12, {"pulse": 3, "spo2": 3, "systolic_bp": 3, "consciousness": 3}, Frequency.CONTINUOUS),
    ],
)
def test_each_band_has_its_rcp_frequency(total, scores, expected) -> None:
    assert monitoring_frequency(total, scores) == expected


def test_a_set_within_its_interval_is_not_overdue_and_one_past_it_is() -> None:
    on_time = schedule(2, {"pulse": 2}, last_full_set_at=NOW - timedelta(hours=3, minutes=59), now=NOW)
    assert (on_time.frequency, on_time.overdue) == (Frequency.FOUR_TO_SIX_HOURLY, False)
    assert on_time.due_at == NOW + timedelta(minutes=1)
    late = schedule(2, {"pulse": 2}, last_full_set_at=NOW - timedelta(hours=4, minutes=1), now=NOW)
    assert late.overdue


def test_a_low_score_allows_twelve_hours_and_a_high_one_an_hour() -> None:
    set_at = NOW - timedelta(hours=2)
    assert not schedule(0, {}, last_full_set_at=set_at, now=NOW).overdue
    assert schedule(7, {"pulse": 3, "spo2": 2, "temperature": 2}, last_full_set_at=set_at, now=NOW).overdue


def test_a_patient_with_no_full_set_is_overdue() -> None:
    never = schedule(0, {}, last_full_set_at=None, now=NOW)
    assert (never.overdue, never.due_at) == (True, None)
