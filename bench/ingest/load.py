"""The benchmark's load: realistic values from the simulator, batched into monitor messages.

Generating readings with the simulator costs ~60 µs each here, too slow to drive tens of thousands
a second live, so it fills a pool of per-second samples first; each monitor's message then takes
the next `samples` of them, stamped `period_s / samples` apart, the newest at the moment of
publishing. The publisher shares the machine's cores with what it measures, so it works like a
monitor's firmware would: each sample's readings are encoded once, ahead, as JSON with a slot for
their time, and a message is those pieces with the times filled in (formatted once per instant
for all the monitors publishing at that instant).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from devices.protocol import metric_spec
from devices.simulator import SimulatedDevice, simulate

POOL_DEVICES = 40
POOL_SECONDS = 120
TIME_SLOT = "\x00"


@dataclass(slots=True)
class MonitorLoad:
    """Produces the payloads of `devices` monitors, each sending every `period_s` seconds."""

    device_ids: list[str]
    samples: int
    period_s: float
    # Per pool sample: its readings' JSON with TIME_SLOT where the time goes.
    _pool: list[str] = field(default_factory=list)
    _counts: list[int] = field(default_factory=list)
    _cursor: dict[str, int] = field(default_factory=dict)
    _seq: dict[str, int] = field(default_factory=dict)
    _stamps: tuple[datetime, list[str]] | None = None

    def __post_init__(self) -> None:
        start = datetime.now(UTC) - timedelta(days=1)
        simulated = [SimulatedDevice(f"pool-{i}") for i in range(POOL_DEVICES)]
        for _device, message in simulate(
            simulated, start=start, until=start + timedelta(seconds=POOL_SECONDS)
        ):
            self._pool.append(
                ",".join(
                    f'{{"metric":"{metric_spec(r.metric).alias}","value":{r.value},'
                    f'"unit":"{metric_spec(r.metric).unit}","time":"{TIME_SLOT}"}}'
                    for r in message.readings
                )
            )
            self._counts.append(len(message.readings))
        for index, device_id in enumerate(self.device_ids):
            self._cursor[device_id] = (index * 7919) % len(self._pool)
            self._seq[device_id] = 0

    def message(self, device_id: str, newest: datetime) -> tuple[bytes, int]:
        """One message of `device_id` whose newest readings are at `newest`; returns it and its reading count."""
        stamps = self._times(newest)
        cursor, pool = self._cursor[device_id], self._pool
        picks = [(cursor + sample) % len(pool) for sample in range(self.samples)]
        parts = [pool[pick].replace(TIME_SLOT, stamp) for pick, stamp in zip(picks, stamps, strict=True)]
        self._cursor[device_id] = (cursor + self.samples) % len(pool)
        seq = self._seq[device_id]
        self._seq[device_id] = seq + 1
        body = ",".join(parts)
        return f'{{"v":1,"seq":{seq},"readings":[{body}]}}'.encode(), sum(self._counts[p] for p in picks)

    def _times(self, newest: datetime) -> list[str]:
        if self._stamps is None or self._stamps[0] != newest:
            step = timedelta(seconds=self.period_s / self.samples)
            self._stamps = (
                newest,
                [
                    (newest - (self.samples - 1 - sample) * step).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                    for sample in range(self.samples)
                ],
            )
        return self._stamps[1]
