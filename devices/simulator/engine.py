"""The simulation loop: steps simulated time and yields each device's readings as wire messages.

Fast by construction (the benchmark needs tens of thousands of readings per second): per step
the daily rhythm is computed once for all devices, per device the scenario once, and readings
are built with `model_construct`: they are generated already normalised (LOINC code, stored
unit, clamped inside the device's display range, which lies inside the protocol's possible
range), so pydantic validation would only repeat what the generator guarantees. The tests decode
every generated message with `decode_vitals` to hold it to that.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from devices.protocol import MAX_READINGS_PER_MESSAGE, Reading, VitalsMessage, metric_spec
from devices.simulator.artefacts import ArtefactRates, ArtefactState
from devices.simulator.devices import SimulatedDevice
from devices.simulator.physiology import DYNAMICS, Patient, circadian_offsets, draw_patient
from devices.simulator.scenarios import Scenario, scenario

SECONDS_PER_DAY = 86400.0
# Diastolic pressure stays at least this far below systolic, as a cuff reports it.
MIN_PULSE_PRESSURE = 10.0


class _Track:
    """One metric of one device: when it is next due and where its slow drift stands."""

    __slots__ = (
        "alias",
        "baseline",
        "code",
        "decimals",
        "drift",
        "high",
        "innovation_sd",
        "interval_s",
        "low",
        "next_due_s",
        "noise_sd",
        "phi",
        "unit",
    )

    def __init__(self, alias: str, interval_s: float, step_s: float, patient: Patient, rng: random.Random):
        spec = metric_spec(alias)
        dynamics = DYNAMICS[alias]
        self.alias = alias
        self.code = spec.code
        self.unit = spec.unit
        self.interval_s = interval_s
        self.next_due_s = 0.0
        self.baseline = patient.baselines[alias]
        self.noise_sd = dynamics.noise_sd
        self.low = max(dynamics.low, spec.minimum)
        self.high = min(dynamics.high, spec.maximum)
        self.decimals = dynamics.decimals
        # AR(1) drift sampled every `dt`: x' = phi * x + innovation, stationary sd = drift_sd.
        dt = max(interval_s, step_s)
        self.phi = math.exp(-dt / dynamics.drift_tau_s)
        self.innovation_sd = dynamics.drift_sd * math.sqrt(1 - self.phi * self.phi)
        self.drift = rng.gauss(0, dynamics.drift_sd)


class _DeviceState:
    __slots__ = (
        "artefacts",
        "device",
        "onset_s",
        "oximeter_pulse",
        "patient",
        "rng",
        "scenario",
        "seq",
        "tracks",
    )

    def __init__(
        self, device: SimulatedDevice, step_s: float, seed: int, rates: ArtefactRates, seq: int
    ) -> None:
        # Separate streams, keyed by the device id, so that adding a device, changing a
        # scenario or the artefact rates leaves every other value unchanged. A simulation, not
        # cryptography: the seeded Mersenne Twister is what makes runs reproducible.
        key = f"{seed}/{device.device_id}"
        self.patient = draw_patient(random.Random(f"{key}/patient"), device.age_years)  # noqa: S311
        self.rng = random.Random(f"{key}/physiology")  # noqa: S311
        self.artefacts = ArtefactState(rates, random.Random(f"{key}/artefacts"))  # noqa: S311
        self.device = device
        self.scenario: Scenario | None = None if device.scenario == "stable" else scenario(device.scenario)
        self.onset_s = device.onset_s
        self.oximeter_pulse = device.kind == "pulse_oximeter"
        self.seq = seq
        self.tracks = [
            _Track(alias, interval, step_s, self.patient, self.rng)
            for alias, interval in device.metric_intervals().items()
        ]

    def scenario_offsets(self, elapsed_s: float) -> Mapping[str, float]:
        if self.scenario is None or elapsed_s < self.onset_s:
            return {}
        hours = (elapsed_s - self.onset_s) * self.device.time_scale / 3600.0
        severity = self.patient.severity
        return {alias: offset * severity for alias, offset in self.scenario.offsets_at(hours).items()}


def simulate(
    devices: Sequence[SimulatedDevice],
    start: datetime,
    step_s: float = 1.0,
    *,
    seed: int = 0,
    artefacts: ArtefactRates | None = None,
    until: datetime | None = None,
    first_seq: Mapping[str, int] | None = None,
    utc_offset_h: float = 0.0,
) -> Iterator[tuple[str, VitalsMessage]]:
    """Yields (device id, message) step by step from `start` (through `until`, or forever); deterministic per seed."""
    if start.tzinfo is None:
        raise ValueError("start must carry a timezone offset")
    if step_s <= 0:
        raise ValueError("step_s must be positive")
    if len({device.device_id for device in devices}) != len(devices):
        raise ValueError("device ids must be unique")
    rates = artefacts if artefacts is not None else ArtefactRates()
    seqs = first_seq or {}
    states = [_DeviceState(d, step_s, seed, rates, seqs.get(d.device_id, 0)) for d in devices]
    start = start.astimezone(UTC)
    start_local_s = start.timestamp() + utc_offset_h * 3600.0
    last_s = (until - start).total_seconds() if until is not None else math.inf
    step = 0
    elapsed_s = 0.0
    while elapsed_s <= last_s:
        now = start + timedelta(seconds=elapsed_s)
        local_hour = ((start_local_s + elapsed_s) % SECONDS_PER_DAY) / 3600.0
        rhythm = circadian_offsets(local_hour)
        for state in states:
            readings = _readings(state, elapsed_s, step_s, now, rhythm)
            if readings:
                message = VitalsMessage.model_construct(v=1, seq=state.seq, readings=readings)
                state.seq += 1
                yield state.device.device_id, message
        step += 1
        elapsed_s = step * step_s


def _readings(
    state: _DeviceState, elapsed_s: float, step_s: float, now: datetime, rhythm: Mapping[str, float]
) -> list[Reading]:
    offsets = state.scenario_offsets(elapsed_s)
    gauss = state.rng.gauss
    artefacts = state.artefacts
    readings: list[Reading] = []
    systolic = math.inf
    for track in state.tracks:
        if elapsed_s < track.next_due_s:
            continue
        # Catch up rather than burst when the interval is shorter than the step.
        track.next_due_s = max(track.next_due_s + track.interval_s, elapsed_s + step_s * 0.5)
        track.drift = track.drift * track.phi + gauss(0.0, track.innovation_sd)
        alias = track.alias
        true_value = track.baseline + rhythm[alias] + offsets.get(alias, 0.0) + track.drift
        # Physiology is drawn before artefacts so the artefact settings never shift its stream.
        measured = artefacts.distort(
            alias, true_value + gauss(0.0, track.noise_sd), elapsed_s, state.oximeter_pulse
        )
        if measured is None:
            continue
        if alias == "sbp":
            systolic = measured
        elif alias == "dbp":
            measured = min(measured, systolic - MIN_PULSE_PRESSURE)
        value = round(min(track.high, max(track.low, measured)), track.decimals)
        readings.append(
            Reading.model_construct(metric=track.code, value=float(value), unit=track.unit, time=now)
        )
    return readings[:MAX_READINGS_PER_MESSAGE]
