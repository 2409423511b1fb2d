"""Simulated bedside and home devices with realistic vital signs, for the embedded mode, the demo,
the edge gateway's `--simulate` and the benchmark.

Each device carries a simulated patient (age-appropriate baselines, slow drift, measurement
noise, a daily rhythm), optional artefacts (motion, probe off, lost readings) and a scripted
course (stable, sepsis, septic shock, respiratory failure, hypotension, bradycardia) that a time scale can
compress for demos. Deterministic for a given seed.

    devices = [SimulatedDevice("bed-01", scenario="sepsis", time_scale=DEMO_TIME_SCALE)]
    for device_id, message in simulate(devices, start=now, step_s=1.0, until=now + hour): ...
    async for device_id, message in paced(simulate(devices, start=now)): ...  # real time

Imports only the standard library, pydantic and `devices.protocol`: the edge agent installs it
without the server's dependencies.
"""

from devices.simulator.artefacts import ArtefactRates
from devices.simulator.devices import DEVICE_KINDS, DeviceKind, SimulatedDevice, demo_ward
from devices.simulator.engine import simulate
from devices.simulator.pacing import paced, paced_blocking
from devices.simulator.physiology import DYNAMICS, Patient, draw_patient
from devices.simulator.scenarios import DEMO_TIME_SCALE, SCENARIO_NAMES, ScenarioName, scenario

__all__ = [
    "DEMO_TIME_SCALE",
    "DEVICE_KINDS",
    "DYNAMICS",
    "SCENARIO_NAMES",
    "ArtefactRates",
    "DeviceKind",
    "Patient",
    "ScenarioName",
    "SimulatedDevice",
    "demo_ward",
    "draw_patient",
    "paced",
    "paced_blocking",
    "scenario",
    "simulate",
]
