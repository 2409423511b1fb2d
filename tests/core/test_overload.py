"""The overload decision as a pure unit: samples and their times are numbers, the clock is ours."""

from __future__ import annotations

import pytest

from core.overload import HUB_POLICY, INGEST_POLICY, OverloadDetector, OverloadPolicy

# Round numbers, and no smoothing unless a test wants it: each sample is the lateness as it is.
POLICY = OverloadPolicy(
    enter_s=0.25, sustain_s=10.0, exit_s=0.1, recover_s=30.0, smoothing_s=0.0, sample_interval_s=1.0
)
BEHIND, BETWEEN, CLEAR = 0.5, 0.2, 0.05


def feed(detector: OverloadDetector, sample_s: float, start: float, end: float) -> list[float]:
    """One sample a second over [start, end]; returns the times at which the decision changed."""
    changes = []
    for now in range(int(start), int(end) + 1):
        if detector.update(sample_s, now=float(now)):
            changes.append(float(now))
    return changes


def overloaded_at(start: float) -> OverloadDetector:
    detector = OverloadDetector(POLICY)
    assert feed(detector, BEHIND, start, start + POLICY.sustain_s) == [start + POLICY.sustain_s]
    return detector


def test_turns_on_only_after_being_behind_for_the_sustained_time() -> None:
    detector = OverloadDetector(POLICY)
    assert feed(detector, BEHIND, 0, 9) == []
    assert not detector.overloaded
    assert detector.update(BEHIND, now=10.0)
    assert detector.overloaded
    assert detector.episodes == 1


def test_a_break_in_the_lateness_starts_the_wait_again() -> None:
    detector = OverloadDetector(POLICY)
    assert feed(detector, BEHIND, 0, 9) == []
    # One sample under the threshold, even above the exit level: the sustained time starts over.
    assert not detector.update(BETWEEN, now=10.0)
    assert feed(detector, BEHIND, 11, 20) == []
    assert feed(detector, BEHIND, 21, 21) == [21.0]


def test_stays_on_through_a_brief_dip_and_between_the_levels() -> None:
    detector = overloaded_at(0)
    # Clear for less than the recovery time, then behind again.
    assert feed(detector, CLEAR, 11, 35) == []
    assert feed(detector, BEHIND, 36, 40) == []
    # Between the exit and the enter levels it stays on, however long.
    assert feed(detector, BETWEEN, 41, 500) == []
    assert detector.overloaded
    assert detector.episodes == 1


def test_turns_off_after_recovering_for_the_recovery_time_and_does_not_flap() -> None:
    detector = overloaded_at(0)
    assert feed(detector, CLEAR, 11, 40) == []
    assert detector.update(CLEAR, now=41.0)  # 30 s clear since 11
    assert not detector.overloaded
    # Between the levels it stays off; behind again, it waits the sustained time once more.
    assert feed(detector, BETWEEN, 42, 500) == []
    assert feed(detector, BEHIND, 501, 510) == []
    assert feed(detector, BEHIND, 511, 511) == [511.0]
    assert detector.episodes == 2


def test_smoothing_absorbs_a_single_spike() -> None:
    detector = OverloadDetector(
        OverloadPolicy(
            enter_s=0.25, sustain_s=0.0, exit_s=0.1, recover_s=0.0, smoothing_s=2.0, sample_interval_s=0.25
        )
    )
    detector.update(0.01, now=0.0)
    detector.update(0.01, now=0.25)
    # One sample of 0.4 s (a quarter of a second's stall) moves the average by about an eighth of it.
    assert not detector.update(0.4, now=0.5)
    assert 0.01 < detector.behind_s < 0.25
    # Lateness that persists reaches the average, even with no sustained time at all.
    now = 0.5
    while not detector.overloaded and now < 10:
        now += 0.25
        detector.update(0.4, now=now)
    assert detector.overloaded
    assert detector.behind_s <= 0.4


def test_a_sample_that_comes_late_counts_for_the_time_it_stands_for() -> None:
    detector = OverloadDetector(
        OverloadPolicy(
            enter_s=0.25, sustain_s=0.0, exit_s=0.1, recover_s=0.0, smoothing_s=2.0, sample_interval_s=0.25
        )
    )
    detector.update(0.0, now=0.0)
    detector.update(3.0, now=3.25)  # a loop stalled for 3 s samples once, late
    assert detector.behind_s > 0.25


def test_a_policy_needs_the_exit_level_at_or_below_the_enter_level() -> None:
    with pytest.raises(ValueError, match="exit_s"):
        OverloadPolicy(
            enter_s=0.1, sustain_s=1.0, exit_s=0.2, recover_s=1.0, smoothing_s=0.0, sample_interval_s=1.0
        )


@pytest.mark.parametrize("policy", [INGEST_POLICY, HUB_POLICY], ids=["ingest", "hub"])
def test_the_processes_policies_have_hysteresis(policy: OverloadPolicy) -> None:
    assert policy.exit_s < policy.enter_s
    assert policy.recover_s >= policy.sustain_s > policy.sample_interval_s
