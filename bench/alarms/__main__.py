"""`python -m bench.alarms [--stable-beds N] [--hours H] [--seed S]`: alarm policy on a simulated ward.

Stable patients with the artefacts of real monitors (`bench.alarms.ward`) and deteriorating ones
(sepsis, respiratory failure, haemorrhage, bradycardia) are replayed second by second, in simulated
time, through the real decision functions (`realtime.alarms.replay`), and in the same run through
the old immediate-raise rules (`bench.alarms.old_policy`). A nurse acknowledges each alarm two
minutes after it is raised. Printed per policy: non-actionable alarms per stable bed per day
(every physiological alarm of a stable patient), hours an alarm stood open per stable bed per day,
deteriorations detected, and the median and worst time from the crossing to the first alarm.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bench.alarms.old_policy import OldPolicyPatient
from bench.alarms.ward import SimulatedBed
from realtime.alarms import (
    SPO2,
    AgeGroup,
    AlarmKind,
    AlarmPolicy,
    ChartedObservation,
    Consciousness,
    ReplayedPatient,
    default_limits,
)

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
DETERIORATIONS = {
    "sepsis": "sepsis",
    "respiratory failure": "respiratory_failure",
    "haemorrhage": "hypotension",
    "bradycardia": "bradycardia",
}
ONSET_S = 1800
# After the crossing, how long a course is followed for a first alarm before it counts as missed.
FOLLOW_AFTER_CROSSING_S = 3600
ACKNOWLEDGED_AFTER = timedelta(minutes=2)
LEAD = timedelta(minutes=10)
PHYSIOLOGICAL = (AlarmKind.THRESHOLD, AlarmKind.NEWS2)


@dataclass(slots=True)
class Tally:
    """What one policy did over the run."""

    stable_alarms: int = 0
    stable_open_s: float = 0.0
    delays_s: list[float] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    by_course: list[str] = field(default_factory=list)


class Watched:
    """A policy's patient on one bed, with a nurse who acknowledges alarms two minutes after they raise."""

    def __init__(self, patient: ReplayedPatient | OldPolicyPatient) -> None:
        self.patient = patient
        self.raised: list[tuple[datetime, str]] = []
        self.to_acknowledge: list[tuple[datetime, str]] = []

    def step(self, second, sensor_off: bool) -> None:
        self.patient.suppressed = {SPO2} if sensor_off else set()
        for change in self.patient.step(second.readings, second.at):
            if change.change == "raised" and change.alarm.kind in PHYSIOLOGICAL:
                self.raised.append((second.at, change.alarm.condition_key))
                self.to_acknowledge.append((second.at + ACKNOWLEDGED_AFTER, change.alarm.condition_key))
        due = [key for when, key in self.to_acknowledge if when <= second.at]
        if due:
            self.patient.acknowledge(due, second.at)
            self.to_acknowledge = [(w, k) for w, k in self.to_acknowledge if w > second.at]

    def open_physiological(self) -> int:
        return sum(1 for a in self.patient.open_alarms.values() if a.kind in PHYSIOLOGICAL)


def both(limits, observation) -> dict[str, Watched]:
    return {
        "new policy": Watched(ReplayedPatient(limits, policy=AlarmPolicy(), observation=observation)),
        "old immediate-raise": Watched(OldPolicyPatient(limits, observation=observation)),
    }


def limits_for(bed: SimulatedBed):
    return default_limits(AgeGroup.OLDER_ADULT if bed.patient.age_years >= 65 else AgeGroup.ADULT)


def charted() -> ChartedObservation:
    return ChartedObservation(uuid.uuid4(), Consciousness.ALERT, False, 1)


def run_stable(tallies: dict[str, Tally], *, beds: int, hours: float, seed: int) -> None:
    for number in range(beds):
        bed = SimulatedBed(seed=f"{seed}/stable/{number}", course="stable", onset_s=0, limits={})
        bed.limits = limits_for(bed)
        # Half the ward is charted (consciousness, air), half monitored by devices alone.
        watched = both(bed.limits, charted() if number % 2 == 0 else None)
        for second in bed.seconds(START, int(hours * 3600)):
            for name, w in watched.items():
                w.step(second, second.sensor_off)
                tallies[name].stable_open_s += 1.0 if w.open_physiological() else 0.0
        for name, w in watched.items():
            tallies[name].stable_alarms += len(w.raised)


def run_deteriorations(tallies: dict[str, Tally], *, seed: int, repeats: int) -> None:
    for label, course in DETERIORATIONS.items():
        for repeat in range(repeats):
            bed = SimulatedBed(seed=f"{seed}/{course}/{repeat}", course=course, onset_s=ONSET_S, limits={})
            bed.limits = limits_for(bed)
            watched = both(bed.limits, charted())
            crossing: datetime | None = None
            for second in bed.seconds(START, ONSET_S + 12 * 3600):
                if crossing is None and second.crossed and second.at >= START + timedelta(seconds=ONSET_S):
                    crossing = second.at
                for w in watched.values():
                    w.step(second, second.sensor_off)
                if crossing is not None and second.at - crossing > timedelta(seconds=FOLLOW_AFTER_CROSSING_S):
                    break
            for name, w in watched.items():
                # Alarms raised as the patient neared the trigger count (delay 0); earlier ones cannot
                # be told from an artefact's.
                after = [at for at, _ in w.raised if crossing is not None and at >= crossing - LEAD]
                if crossing is None or not after:
                    tallies[name].missed.append(f"{label} #{repeat + 1}")
                    continue
                delay_s = max(0.0, (after[0] - crossing).total_seconds())
                tallies[name].delays_s.append(delay_s)
                tallies[name].by_course.append(f"{label} {delay_s:.0f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.alarms", description=__doc__.splitlines()[0])
    parser.add_argument("--stable-beds", type=int, default=8)
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours per stable bed")
    parser.add_argument("--repeats", type=int, default=2, help="patients per deterioration")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args(argv)
    started = time.perf_counter()
    tallies = {"new policy": Tally(), "old immediate-raise": Tally()}
    run_stable(tallies, beds=options.stable_beds, hours=options.hours, seed=options.seed)
    run_deteriorations(tallies, seed=options.seed, repeats=options.repeats)
    report(tallies, options, time.perf_counter() - started)


def report(tallies: dict[str, Tally], options, elapsed_s: float) -> None:
    bed_days = options.stable_beds * options.hours / 24.0
    total = len(DETERIORATIONS) * options.repeats
    print(
        f"bench.alarms: {options.stable_beds} stable beds x {options.hours:g} simulated h, "
        f"{total} deteriorations ({', '.join(DETERIORATIONS)}), seed {options.seed}; "
        f"replayed in {elapsed_s:.0f} s"
    )
    header = f"{'policy':<22}{'non-actionable/bed/day':>24}{'alarm open h/bed/day':>22}{'detected':>10}{'median delay':>14}{'worst delay':>13}"
    print(header)

    def fmt(delays: list[float], measure: Callable[[list[float]], float]) -> str:
        return f"{measure(delays):.0f} s" if delays else "-"

    for name, tally in tallies.items():
        print(
            f"{name:<22}{tally.stable_alarms / bed_days:>24.1f}{tally.stable_open_s / 3600 / bed_days:>22.2f}"
            f"{len(tally.delays_s):>6}/{total:<3}{fmt(tally.delays_s, statistics.median):>14}"
            f"{fmt(tally.delays_s, max):>13}"
        )
        print(f"  delays: {', '.join(tally.by_course)}")
        if tally.missed:
            print(f"  missed: {', '.join(tally.missed)}")
    print(
        "delay: from the crossing (true values at NEWS2 5, or one beyond its alarm limit when measured) "
        "to the first physiological alarm raised from 10 min before it on (earlier: delay 0)"
    )


if __name__ == "__main__":
    main()
