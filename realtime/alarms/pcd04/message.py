"""Writing an alarm change as an IHE PCD-04 (Alarm Communication Management) ORU^R40.

Structure after the IHE PCD Technical Framework (Report Alarm, PCD-04): MSH with the ACM profile
in MSH-21, PID and PV1 (the patient and the bed, so the nurse call reaches the right room), one
OBR naming the alarm event (MDC_EVT_ALARM) with its unique id (OBR-2/3) and when it started, then
the OBX of the alarm: its identification and text, the source value that caused it (MDC code and
unit where the metric has one), the event phase (start, update, end, escalate), the alarm state,
the inactivation state (acknowledged or not), the priority (PH/PM/PL) and the alert type
(physiological or technical). The attribute codes are those of the ACM profile (MDC_ATTR_*).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from clinical.lab import escape_hl7
from devices.protocol import dtm, mdc_of
from realtime.alarms.models import AlarmKind, AlarmPriority

PROFILE = "IHE_PCD_ACM_001^IHE PCD^1.3.6.1.4.1.19376.1.6.4.4^ISO"
EVENT = "196616^MDC_EVT_ALARM^MDC"
PHASES = {
    "raised": "start",
    "updated": "update",
    "acknowledged": "update",
    "resolved": "end",
    "escalated": "escalate",
}
PRIORITIES = {AlarmPriority.HIGH: "PH", AlarmPriority.MEDIUM: "PM", AlarmPriority.LOW: "PL"}


@dataclass(frozen=True, slots=True)
class AlarmReport:
    """What PCD-04 says of one alarm change."""

    alarm_id: uuid.UUID
    change: str  # raised, updated, acknowledged, resolved, escalated
    code: str  # the alarm's code: a LOINC metric, "news2", "technical:..."
    kind: AlarmKind
    priority: AlarmPriority
    acknowledged: bool
    raised_at: datetime
    text: str
    metric: str | None
    value: float | None
    mrn: str
    family: str
    given: str
    point_of_care: tuple[str, str, str]
    device_id: str | None


def oru_r40(report: AlarmReport, *, control_id: str, receiver: str, version: str = "2.6") -> str:
    """The ORU^R40 of one alarm change (segments separated by CR)."""
    now = dtm(datetime.now(UTC))
    alarm = str(report.alarm_id)
    phase = PHASES.get(report.change, "update")
    state = "inactive" if report.change == "resolved" else "active"
    segments = [
        f"MSH|^~\\&|OWNAT||{escape_hl7(receiver)}||{now}||ORU^R40^ORU_R40|{control_id}|P|{version}|||AL|NE||"
        f"UNICODE UTF-8|||{PROFILE}",
        f"PID|||{escape_hl7(report.mrn)}^^^OWNAT^MR||{escape_hl7(report.family)}^{escape_hl7(report.given)}",
        f"PV1||I|{'^'.join(escape_hl7(part) for part in report.point_of_care)}",
        f"OBR|1|{alarm}^OWNAT|{alarm}^OWNAT|{EVENT}|||{dtm(report.raised_at)}",
        f"OBX|1|ST|{EVENT}|1.0.0.0.1|{escape_hl7(report.text)}||||||F|||{now}",
    ]
    mdc = mdc_of(report.metric) if report.metric else None
    if mdc is not None and report.value is not None:
        code, ref_id, unit_code, unit_ref = mdc
        segments.append(
            f"OBX|2|NM|{code}^{ref_id}^MDC|1.0.0.0.2|{report.value:g}|{unit_code}^{unit_ref}^MDC|||||F"
        )
    elif report.value is not None:
        segments.append(
            f"OBX|2|NM|{escape_hl7(report.code)}^{escape_hl7(report.code)}^OWNAT|1.0.0.0.2|{report.value:g}||||||F"
        )
    kind = "ST" if report.kind is AlarmKind.TECHNICAL else "SP"
    inactivation = "acknowledged" if report.acknowledged else "enabled"
    for number, (attribute, value) in enumerate(
        (
            ("68481^MDC_ATTR_EVENT_PHASE^MDC", phase),
            ("68482^MDC_ATTR_ALARM_STATE^MDC", state),
            ("68483^MDC_ATTR_ALARM_INACTIVATION_STATE^MDC", inactivation),
            ("68484^MDC_ATTR_ALARM_PRIORITY^MDC", PRIORITIES[report.priority]),
            ("68485^MDC_ATTR_ALERT_TYPE^MDC", kind),
        ),
        start=len(segments) - 3,
    ):
        segments.append(f"OBX|{number}|ST|{attribute}|1.0.0.0.{number}|{value}||||||F")
    if report.device_id:
        segments.append(
            f"OBX|{len(segments) - 3}|ST|68480^MDC_ATTR_ALARM_SOURCE^MDC|1.0.0.0.9|{escape_hl7(report.device_id)}||||||F"
        )
    return "\r".join(segments) + "\r"
