"""The demo's clock: local wall-clock times of the hospital around the moment the seed runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

HOSPITAL_ZONE = "Europe/London"


@dataclass(frozen=True, slots=True)
class Timeline:
    now: datetime  # aware, UTC
    zone_name: str = HOSPITAL_ZONE

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.zone_name)

    @property
    def today(self) -> date:
        """The hospital's local date now."""
        return self.now.astimezone(self.zone).date()

    def at(self, day: date, clock: time) -> datetime:
        """Local `clock` on `day`, in UTC."""
        return datetime.combine(day, clock, tzinfo=self.zone).astimezone(UTC)

    def ago(self, *, hours: float) -> datetime:
        return self.now - timedelta(hours=hours)

    def past_working_day(self, days_ago: int, weekdays: tuple[int, ...]) -> date:
        """The local date `days_ago` days back, moved further back to one of the ISO `weekdays`."""
        day = self.today - timedelta(days=days_ago)
        while weekdays and day.isoweekday() not in weekdays:
            day -= timedelta(days=1)
        return day


def on_grid(start: time, duration_min: int, wanted: time) -> time:
    """The first slot start at or after `wanted` on a grid of `duration_min` from the shift's `start`."""
    base = start.hour * 60 + start.minute
    minutes = max(wanted.hour * 60 + wanted.minute, base)
    steps = -(-(minutes - base) // duration_min)  # ceiling division
    total = base + steps * duration_min
    return time(total // 60, total % 60)
