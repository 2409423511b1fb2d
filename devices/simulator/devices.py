"""Simulated device kinds (which metrics they measure and how often) and the description of
one simulated device."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from devices.protocol import DEVICE_ID_PATTERN
from devices.simulator.scenarios import DEMO_TIME_SCALE, SCENARIO_NAMES

DeviceKind = Literal["bedside_monitor", "pulse_oximeter", "bp_cuff", "thermometer", "scale"]

# Seconds between readings of each metric; 0 means "every simulation step" (a continuous
# waveform-derived parameter). A bedside monitor's cuff (NIBP) cycles every few minutes; home
# devices are spot checks a few times a day.
KIND_INTERVALS_S: dict[str, dict[str, float]] = {
    "bedside_monitor": {"hr": 0, "spo2": 0, "rr": 0, "sbp": 300, "dbp": 300, "temp": 60},
    "pulse_oximeter": {"spo2": 0, "hr": 0},
    # An automated cuff reports the pulse rate with each pressure.
    "bp_cuff": {"sbp": 900, "dbp": 900, "hr": 900},
    "thermometer": {"temp": 1800},
    "scale": {"weight": 86400},
}
DEVICE_KINDS: tuple[DeviceKind, ...] = (
    "bedside_monitor",
    "pulse_oximeter",
    "bp_cuff",
    "thermometer",
    "scale",
)


@dataclass(frozen=True, slots=True)
class SimulatedDevice:
    """One simulated device and the course of the patient it is attached to."""

    device_id: str
    kind: DeviceKind = "bedside_monitor"
    scenario: str = "stable"
    # Simulated seconds after the start before the scenario begins.
    onset_s: float = 0.0
    # Clinical seconds per simulated second once the scenario runs (see DEMO_TIME_SCALE).
    time_scale: float = 1.0
    # The patient's age; drawn (25 to 90) from the seed when not given.
    age_years: float | None = None
    # Per-metric overrides of the kind's intervals, e.g. {"sbp": 15, "dbp": 15} for a demo.
    intervals_s: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not DEVICE_ID_PATTERN.match(self.device_id):
            raise ValueError(f"device id {self.device_id!r} is not a valid MQTT topic id")
        if self.kind not in KIND_INTERVALS_S:
            raise ValueError(f"unknown device kind {self.kind!r}; known: {', '.join(DEVICE_KINDS)}")
        if self.scenario not in SCENARIO_NAMES:
            raise ValueError(f"unknown scenario {self.scenario!r}; known: {', '.join(SCENARIO_NAMES)}")
        if self.time_scale <= 0 or self.onset_s < 0:
            raise ValueError("time_scale must be positive and onset_s not negative")
        unknown = set(self.intervals_s) - set(KIND_INTERVALS_S[self.kind])
        if unknown:
            raise ValueError(f"a {self.kind} does not measure {', '.join(sorted(unknown))}")

    def metric_intervals(self) -> dict[str, float]:
        """Seconds between readings of each metric this device measures."""
        return {**KIND_INTERVALS_S[self.kind], **self.intervals_s}


def demo_ward(
    count: int, *, prefix: str = "demo-bed", deteriorating: str = "sepsis"
) -> list[SimulatedDevice]:
    """Bedside monitors for a demo: the first patient deteriorates within a minute, the rest are stable."""
    devices = []
    for number in range(1, count + 1):
        first = number == 1
        devices.append(
            SimulatedDevice(
                device_id=f"{prefix}-{number:02d}",
                scenario=deteriorating if first else "stable",
                time_scale=DEMO_TIME_SCALE if first else 1.0,
                # Cuff every 15 s so the falling pressure shows during the demo minute.
                intervals_s={"sbp": 15, "dbp": 15, "temp": 15},
            )
        )
    return devices
