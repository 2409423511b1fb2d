"""What an SDC provider's states mean to Ownat: numeric metrics to readings, alert conditions to events.

Plain values in, plain values out (no sdc11073 types), so that the rules are readable and tested on
their own. The MDC codes go through `devices.protocol`'s MDC table, the one PCD-01 uses too.

BICEPS (IEEE 11073-10207) says how far to trust a value in its MetricQuality.Validity: "Vld"
(valid) and "Vldated" (validated by a person) are measurements; "Ong" (calibration or setting
ongoing), "Qst" (questionable), "Calib" (calibrated but not yet valid), "Inv" (invalid) and "NA"
(not available) are not, and are never stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from devices.protocol import MDC_CODING_SYSTEM, metric_for, unit_for

TRUSTED_VALIDITY = frozenset({"Vld", "Vldated"})
# BICEPS AlertConditionPriority -> the protocol's event severity.
SEVERITY: dict[str | None, Literal["low", "medium", "high"]] = {"Lo": "low", "Me": "medium", "Hi": "high"}
# BICEPS AlertConditionKind: physiological, technical, other.
KIND = {"Phy": "physiological", "Tec": "technical", "Oth": "other"}


@dataclass(frozen=True, slots=True)
class Metric:
    """One numeric metric state as the provider reported it."""

    handle: str
    type_code: str | None
    coding_system: str | None
    unit_code: str | None
    value: Decimal | float | None
    validity: str | None
    # Seconds since the epoch (BICEPS Timestamp is milliseconds; sdc11073 gives seconds).
    determined_at: float | None


@dataclass(frozen=True, slots=True)
class Mapped:
    """A reading (alias, value, UCUM unit) at `time`, or the reason there is none."""

    reading: tuple[str, float, str] | None
    time: datetime | None
    reason: str | None = None
    # True when the metric is one Ownat does not store (not an error in the device's data).
    unknown: bool = False


def map_metric(metric: Metric, received_at: datetime) -> Mapped:
    """The reading of a numeric metric state, or why there is none."""
    system = metric.coding_system
    if system not in (None, MDC_CODING_SYSTEM):
        return Mapped(None, None, f"{metric.handle}: coding system {system} is not IEEE 11073-10101", True)
    code = metric.type_code or ""
    known = metric_for(code)
    if known is None:
        return Mapped(
            None, None, f"{metric.handle}: MDC code {code or '(none)'} is not a metric Ownat stores", True
        )
    if metric.value is None:
        return Mapped(None, None, f"{known.refid} ({metric.handle}): no value")
    if metric.validity not in TRUSTED_VALIDITY:
        return Mapped(
            None, None, f"{known.refid} ({metric.handle}): validity {metric.validity}, not a measurement"
        )
    unit = unit_for(metric.unit_code or "")
    if unit is None:
        return Mapped(
            None, None, f"{known.refid} ({metric.handle}): MDC unit {metric.unit_code} is not known"
        )
    time = datetime.fromtimestamp(metric.determined_at, UTC) if metric.determined_at else received_at
    return Mapped((known.alias, float(metric.value), unit.ucum), time)


_NOT_A_CODE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert condition's state, with what its descriptor says about it."""

    handle: str
    kind: str | None
    priority: str | None
    type_code: str | None
    description: str | None
    present: bool


def alert_event(alert: Alert) -> tuple[str, Literal["low", "medium", "high"], str]:
    """(code, severity, detail) of the device event that says an alert condition began or ended.

    The code names the kind of condition (`physiological_alert`, `technical_alert`, with
    `_ended` when it ends): few and stable, as the platform's event codes are; the detail names
    the condition. An ended condition is low severity: nothing is wrong any more.
    """
    kind = KIND.get(alert.kind or "", "other")
    code = f"{kind}_alert" if alert.present else f"{kind}_alert_ended"
    severity = SEVERITY.get(alert.priority, "medium") if alert.present else "low"
    label = alert.description or _NOT_A_CODE.sub(" ", alert.handle.lower()).strip()
    detail = f"{label} ({'present' if alert.present else 'ended'}; condition {alert.handle}"
    detail += f", MDC code {alert.type_code})" if alert.type_code else ")"
    return code, severity, detail
