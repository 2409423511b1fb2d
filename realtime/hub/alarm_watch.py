"""The watchdog of alarm evaluation: each api instance listens for the evaluators' heartbeats and
tells every staff page at once when none has been heard for `stale_after_s`, and again when one is
(an `alarm_evaluation` message; the `ready` message of a staff sign-in holds the state as it is).

Without it a dead alarms process is invisible: readings still arrive (ingest stores and publishes
them), the tiles stay calm, and a deteriorating patient raises nothing. Silence is judged by this
instance's own clock (when it received a beat), so hosts' clocks need not agree; it covers the
evaluator's death, a stuck evaluation loop, rounds that cannot commit and a bus this instance no
longer hears: in each case no new alarm reaches its dashboards. For `stale_after_s` after the hub
starts nothing is claimed either way ("starting"): the evaluators have not had time to be heard.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from core.bus import EvaluatorBeat
from realtime.hub.metrics import HubMetrics

State = Literal["starting", "running", "stopped"]


@dataclass(slots=True)
class EvaluatorHeard:
    """An evaluator as this instance last heard it."""

    name: str
    heard_s: float  # this process's monotonic clock
    heard_at: datetime
    rounds: int
    waiting: int


class AlarmEvaluationWatch:
    """Hears beats (`heard`), looks for silence (`check`, every second from `run`), and announces
    each change of state with `announce(message)`; `message()` is the state for a new connection."""

    def __init__(
        self,
        *,
        stale_after_s: float,
        announce: Callable[[dict[str, Any]], None],
        metrics: HubMetrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stale_after_s = stale_after_s
        self._announce = announce
        self._metrics = metrics
        self._clock = clock
        self._started_s = clock()
        self._started_at = datetime.now(UTC)
        self._evaluators: dict[str, EvaluatorHeard] = {}
        self._last: EvaluatorHeard | None = None
        self.state: State = "starting"
        self.stopped_at: datetime | None = None
        self._show_metrics()

    def heard(self, beat: EvaluatorBeat) -> None:
        """An evaluator's beat arrived: it evaluates alarms now."""
        seen = EvaluatorHeard(beat.evaluator, self._clock(), datetime.now(UTC), beat.rounds, beat.waiting)
        self._evaluators[beat.evaluator] = self._last = seen
        if self.state != "running":
            self.state, self.stopped_at = "running", None
            self._changed()

    def check(self) -> None:
        """Forgets evaluators silent for `stale_after_s`; with none left, alarm evaluation has stopped."""
        now_s = self._clock()
        for name, seen in list(self._evaluators.items()):
            if now_s - seen.heard_s > self.stale_after_s:
                del self._evaluators[name]
        starting_over = self.state == "starting" and now_s - self._started_s > self.stale_after_s
        if not self._evaluators and (self.state == "running" or starting_over):
            self.state = "stopped"
            self.stopped_at = datetime.now(UTC)
            self._changed()
        self._show_metrics()

    async def run(self, *, every_s: float = 1.0) -> None:
        """Checks for silence until cancelled."""
        every_s = min(every_s, self.stale_after_s / 4)
        while True:
            await asyncio.sleep(every_s)
            self.check()

    def silent_for_s(self) -> float:
        """Seconds since the last beat (since the hub started, when none was heard)."""
        since_s = self._last.heard_s if self._last is not None else self._started_s
        return max(0.0, self._clock() - since_s)

    def evaluators(self) -> list[EvaluatorHeard]:
        """The evaluators heard within `stale_after_s`, the most recently heard first."""
        return sorted(self._evaluators.values(), key=lambda e: e.heard_s, reverse=True)

    def message(self) -> dict[str, Any]:
        """The `alarm_evaluation` message, sent to staff pages when the state changes."""
        return {"type": "alarm_evaluation", **self.status()}

    def status(self) -> dict[str, Any]:
        """The state, and when an evaluator was last heard (or null); staff find it in `ready` too."""
        return {
            "state": self.state,
            "last_heard_at": _iso(self._last.heard_at if self._last else None),
            "stopped_at": _iso(self.stopped_at),
            "watching_since": _iso(self._started_at),
            "evaluators": len(self._evaluators),
            "stale_after_s": self.stale_after_s,
        }

    def _changed(self) -> None:
        self._show_metrics()
        self._announce(self.message())

    def _show_metrics(self) -> None:
        if self._metrics is None:
            return
        # "starting" counts as running: an api restart must not page anyone for the first seconds.
        self._metrics.alarm_evaluation_running.set(0 if self.state == "stopped" else 1)
        self._metrics.alarm_evaluation_silent.set(self.silent_for_s())
        self._metrics.alarm_evaluators.set(len(self._evaluators))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.replace(microsecond=0).isoformat()
