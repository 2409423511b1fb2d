"""The live evaluator's heartbeat: proof, every few seconds, that alarms are being evaluated.

A dead or stuck evaluator raises nothing, and nothing on a dashboard shows it: the beds look calm.
So each evaluator publishes an `EvaluatorBeat` on `alarms.evaluation` after a tick's round has
committed, at most every `interval_s`. Every tick (`OWNAT_ALARM_TICK_S`) the evaluator reads the
database for the patients whose alarms time may change, whether or not readings arrive, so a healthy
evaluator beats steadily; other rounds do not count, as one with nothing to evaluate commits without
touching the database. A round that cannot commit (the database is away) or a loop that no longer
turns sends nothing, and the hubs' watchdog (`realtime.hub.alarm_watch`) then warns the staff.
"""

from __future__ import annotations

import logging
import os
import socket
import time

from core.bus import ALARMS_EVALUATION, Bus, EvaluatorBeat

log = logging.getLogger(__name__)


def evaluator_name() -> str:
    """host:pid, unique per running evaluator, and what an administrator needs to find it."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Heartbeat:
    """Publishes an evaluator's beat when one is due; the evaluator calls `after_round` after each commit."""

    def __init__(self, bus: Bus, *, interval_s: float, name: str | None = None) -> None:
        self._bus = bus
        self.interval_s = interval_s
        self.name = name or evaluator_name()
        self._next_s = float("-inf")  # the first committed round beats at once
        self.sent = 0

    async def after_round(self, *, rounds: int, waiting: int) -> None:
        now_s = time.monotonic()
        if now_s < self._next_s:
            return
        self._next_s = now_s + self.interval_s
        beat = EvaluatorBeat(evaluator=self.name, sent_at=time.time(), rounds=rounds, waiting=waiting)
        try:
            await self._bus.publish(ALARMS_EVALUATION, beat)
        except Exception:
            # The bus is away: no dashboard hears alarms either, and the watchdog says so.
            log.warning("alarm evaluator heartbeat not published; retrying after the next round")
            self._next_s = float("-inf")
            return
        self.sent += 1
