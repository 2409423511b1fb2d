"""Alarm rules: per-patient thresholds, NEWS2 early-warning scores and technical alarms.

The front door of `realtime.alarms`: what the api, the processes and the benchmarks use. Routers call
the services below (alarms, thresholds, NEWS2 charting, full observation sets, the SpO2 scale);
`ownat ingest` and `ownat mllp` evaluate readings with the live evaluator; `ownat worker` runs the
periodic checks and the PCD-04 reports; the hub reads the active alarms for its snapshots.
"""

from __future__ import annotations

from realtime.alarms.charting import current_news2, get_thresholds, record_observation, set_thresholds
from realtime.alarms.charting_schemas import (
    ObservationPrefill,
    ObservationSetCreate,
    ObservationSetRead,
    SpO2ScaleRead,
    SpO2ScaleSet,
)
from realtime.alarms.decisions import NEWS2_KEY, NEWS2_PRIORITY, PatientWork, ReadingLike, threshold_key

# The rules themselves, for the alarm benchmarks (bench.alarms, bench.fanout) that replay and compare them.
from realtime.alarms.defaults import HR, RR, SBP, SPO2, TEMP, AgeGroup, Limits, default_limits
from realtime.alarms.jobs import periodic_checks_job, run_periodic_checks_forever
from realtime.alarms.live_evaluator import LiveAlarmEvaluator, LiveTuning, live_evaluator_factory

# Enumerations and read schemas.
# Exposed for seeding: bench.fanout writes a ward's thresholds as rows, in bulk.
from realtime.alarms.models import AlarmKind, AlarmPriority, AlarmStatus, AlarmThreshold, OxygenDevice
from realtime.alarms.news2 import Consciousness, News2Inputs, score_news2
from realtime.alarms.news2_inputs import ChartedObservation, score_latest
from realtime.alarms.observation_sets import list_full_sets, prefill, record_full_set
from realtime.alarms.pcd04.dispatch import send_alarm_reports

# The processes: live evaluation of readings, periodic checks, PCD-04 reports to the alarm manager.
from realtime.alarms.policy import AlarmPolicy, policy_from_settings
from realtime.alarms.publishing import publish_changes
from realtime.alarms.replay import ReplayedPatient
from realtime.alarms.reports import alarms_by_ward
from realtime.alarms.schemas import (
    AlarmChange,
    AlarmRead,
    News2ObservationCreate,
    News2ObservationRead,
    News2Read,
    ThresholdsRead,
    ThresholdsUpdate,
)

# Services: alarms, thresholds and NEWS2 observations, full observation sets, the SpO2 scale.
from realtime.alarms.service import acknowledge, list_alarms, resolve
from realtime.alarms.spo2_scale import get_scale, set_scale
from realtime.alarms.store import active_alarms
from realtime.alarms.thresholds import breached

__all__ = [
    "HR",
    "NEWS2_KEY",
    "NEWS2_PRIORITY",
    "RR",
    "SBP",
    "SPO2",
    "TEMP",
    "AgeGroup",
    "AlarmChange",
    "AlarmKind",
    "AlarmPolicy",
    "AlarmPriority",
    "AlarmRead",
    "AlarmStatus",
    "AlarmThreshold",
    "ChartedObservation",
    "Consciousness",
    "Limits",
    "LiveAlarmEvaluator",
    "LiveTuning",
    "News2Inputs",
    "News2ObservationCreate",
    "News2ObservationRead",
    "News2Read",
    "ObservationPrefill",
    "ObservationSetCreate",
    "ObservationSetRead",
    "OxygenDevice",
    "PatientWork",
    "ReadingLike",
    "ReplayedPatient",
    "SpO2ScaleRead",
    "SpO2ScaleSet",
    "ThresholdsRead",
    "ThresholdsUpdate",
    "acknowledge",
    "active_alarms",
    "alarms_by_ward",
    "breached",
    "current_news2",
    "default_limits",
    "get_scale",
    "get_thresholds",
    "list_alarms",
    "list_full_sets",
    "live_evaluator_factory",
    "periodic_checks_job",
    "policy_from_settings",
    "prefill",
    "publish_changes",
    "record_full_set",
    "record_observation",
    "resolve",
    "run_periodic_checks_forever",
    "score_latest",
    "score_news2",
    "send_alarm_reports",
    "set_scale",
    "set_thresholds",
    "threshold_key",
]
