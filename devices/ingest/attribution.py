"""Which patient, bed and ward each reading belongs to: the device's binding at the reading's time.

The worker keeps every device's binding spans in memory and reloads them every `refresh_s` seconds
(5 by default), so a binding made or ended in the registry reaches attribution within that bound.
Readings stored in between with the old attribution are corrected when the reload sees the change:
`changed_since` names, per device whose spans changed, the earliest instant whose attribution may
differ, and the worker re-attributes that device's stored readings from there (see `reattribute`).
A device unknown to the cache forces an early reload (at most once per `min_reload_s`) before its
message is dead-lettered, so a device registered a moment ago is not refused.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from devices.registry import BindingSpan, known_device_ids, load_binding_spans, span_at


@dataclass(frozen=True, slots=True)
class Attribution:
    patient_id: uuid.UUID | None
    bed_id: uuid.UUID | None
    ward_id: uuid.UUID | None


UNATTRIBUTED = Attribution(None, None, None)


class BindingCache:
    """Known devices and their binding spans, reloaded from the registry on a schedule."""

    def __init__(self, *, refresh_s: float = 5.0, min_reload_s: float = 1.0) -> None:
        self.refresh_s = refresh_s
        self.min_reload_s = min_reload_s
        self._known: dict[str, datetime] = {}  # device id -> registered at
        self._spans: dict[str, list[BindingSpan]] = {}
        self._loaded_at: float | None = None

    @property
    def is_due(self) -> bool:
        """Whether the scheduled reload is due."""
        return self._loaded_at is None or time.monotonic() - self._loaded_at >= self.refresh_s

    @property
    def may_reload_early(self) -> bool:
        """Whether an unscheduled reload (for an unknown device) is allowed now."""
        return self._loaded_at is None or time.monotonic() - self._loaded_at >= self.min_reload_s

    def is_known(self, device_id: str) -> bool:
        return device_id in self._known

    def registered_at(self, device_id: str) -> datetime | None:
        """When the active device `device_id` was registered; None when it is unknown."""
        return self._known.get(device_id)

    async def reload(self, session: AsyncSession) -> dict[str, datetime]:
        """Reloads from the registry; returns, per device whose spans changed, where attribution may differ."""
        known = await known_device_ids(session)
        spans: defaultdict[str, list[BindingSpan]] = defaultdict(list)
        for span in await load_binding_spans(session):
            spans[span.device_id].append(span)
        first_load = self._loaded_at is None
        changed = {} if first_load else changed_since(self._spans, spans)
        self._known, self._spans = known, dict(spans)
        self._loaded_at = time.monotonic()
        return changed

    def attribute(self, device_id: str, at: datetime) -> Attribution:
        """The patient, bed and ward the device was bound to at `at`."""
        spans = self._spans.get(device_id)
        if not spans:
            return UNATTRIBUTED
        # Most readings are live ones, covered by the device's latest span.
        last = spans[-1]
        span = last if last.covers(at) else span_at(spans, at)
        return UNATTRIBUTED if span is None else Attribution(span.patient_id, span.bed_id, span.ward_id)

    def attribute_interval(self, device_id: str, first: datetime, last: datetime) -> Attribution | None:
        """The attribution of every instant in [first, last], or None when a binding starts or ends inside."""
        spans = self._spans.get(device_id)
        if not spans:
            return UNATTRIBUTED
        latest = spans[-1]
        span = latest if latest.covers(first) else span_at(spans, first)
        if span is not None:
            return Attribution(span.patient_id, span.bed_id, span.ward_id) if span.covers(last) else None
        # Unbound at `first`: unbound throughout unless a binding starts before `last`.
        return None if any(first < s.start <= last for s in spans) else UNATTRIBUTED

    def spans_of(self, device_id: str) -> list[BindingSpan]:
        return list(self._spans.get(device_id, ()))


def changed_since(
    old: dict[str, list[BindingSpan]], new: dict[str, list[BindingSpan]]
) -> dict[str, datetime]:
    """Per device whose spans differ, the earliest start or end among the spans that differ."""
    changed: dict[str, datetime] = {}
    for device_id in old.keys() | new.keys():
        before, after = set(old.get(device_id, ())), set(new.get(device_id, ()))
        differing = before ^ after
        if differing:
            edges = [s.start for s in differing] + [s.end for s in differing if s.end is not None]
            changed[device_id] = min(edges)
    return changed
