"""Where the time goes: readings timed as they come off Redis, before the hub, for a few wards; and
the scripted patients' alarms, so that an alarm's time splits into before and after the hub."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field

from core.bus import AlarmMessage, WardReadings, alarms_patient, create_bus, decode_payload, vitals_ward

TAPPED_WARDS = 4


@dataclass(slots=True)
class BusTap:
    """Publish-to-bus latency (1 ms bins) of the readings of the first wards, inside the window."""

    redis_url: str
    prefix: str
    wards: list[str]
    window_us: tuple[int, int]
    # The scripted patients (ids as strings): when each one's first raised alarm came off Redis.
    alarm_patients: list[str] = field(default_factory=list)
    alarm_arrivals_us: dict[str, int] = field(default_factory=dict)
    histogram: Counter[int] = field(default_factory=Counter)
    listening: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        from bench.fanout.clients import Tally

        times = Tally(window=self.window_us)
        bus = create_bus(redis_url=self.redis_url, key_prefix=self.prefix)
        start, end = self.window_us
        try:
            channels = [vitals_ward(w) for w in self.wards[:TAPPED_WARDS]]
            alarm_channels = {alarms_patient(p): p for p in self.alarm_patients}
            async with bus.subscribe(channels=channels + list(alarm_channels)) as live:
                self.listening.set()
                async for message in live:
                    if message.kind != "message":
                        continue  # a resync marker: nothing to time
                    arrived = time.time_ns() // 1000
                    patient = alarm_channels.get(message.channel)
                    if patient is not None:
                        if decode_payload(AlarmMessage, message.payload).change == "raised":
                            self.alarm_arrivals_us.setdefault(patient, arrived)
                        continue
                    for device in decode_payload(WardReadings, message.payload).devices:
                        for reading in device.readings:
                            published = times.micros(reading.time)
                            if start <= published < end:
                                self.histogram[max(0, (arrived - published) // 1000)] += 1
        finally:
            with contextlib.suppress(Exception):
                await bus.close()

    def quantile_ms(self, q: float) -> float:
        total, seen = sum(self.histogram.values()), 0
        for bin_ms in sorted(self.histogram):
            seen += self.histogram[bin_ms]
            if seen >= q * total:
                return bin_ms + 1.0
        return float("nan")
