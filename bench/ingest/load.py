"""The benchmark's load: realistic values from the simulator, batched into monitor messages.

Generating readings with the simulator costs ~60 µs each here, too slow to drive tens of thousands
a second live, so it fills a pool of per-second samples first; each monitor's message then takes
the next `samples` of them, stamped `period_s / samples` apart, the newest at the moment of
publishing. Messages are encoded with a format string rather than pydantic for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from devices.protocol import metric_spec
from devices.simulator import SimulatedDevice, simulate

POOL_DEVICES = 40
POOL_SECONDS = 120


@dataclass(slots=True)
class MonitorLoad:
    """Produces the payloads of `devices` monitors, each sending every `period_s` seconds."""

    device_ids: list[str]
    samples: int
    period_s: float
    _pool: list[list[tuple[str, float, str]]] = field(default_factory=list)
    _cursor: dict[str, int] = field(default_factory=dict)
    _seq: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        start = datetime.now(UTC) - timedelta(days=1)
        simulated = [SimulatedDevice(f"pool-{i}") for i in range(POOL_DEVICES)]
        for _device, message in simulate(
            simulated, start=start, until=start + timedelta(seconds=POOL_SECONDS)
        ):
            self._pool.append(
                [(metric_spec(r.metric).alias, r.value, metric_spec(r.metric).unit) for r in message.readings]
            )
        for index, device_id in enumerate(self.device_ids):
            self._cursor[device_id] = (index * 7919) % len(self._pool)
            self._seq[device_id] = 0

    def message(self, device_id: str, newest: datetime) -> tuple[bytes, int]:
        """One message of `device_id` whose newest readings are at `newest`; returns it and its reading count."""
        step = timedelta(seconds=self.period_s / self.samples)
        cursor, pool = self._cursor[device_id], self._pool
        parts = []
        for sample in range(self.samples):
            at = (newest - (self.samples - 1 - sample) * step).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            for alias, value, unit in pool[(cursor + sample) % len(pool)]:
                parts.append(f'{{"metric":"{alias}","value":{value},"unit":"{unit}","time":"{at}"}}')
        self._cursor[device_id] = (cursor + self.samples) % len(pool)
        seq = self._seq[device_id]
        self._seq[device_id] = seq + 1
        return f'{{"v":1,"seq":{seq},"readings":[{",".join(parts)}]}}'.encode(), len(parts)
