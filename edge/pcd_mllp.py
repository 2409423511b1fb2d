"""Simulated monitors speaking IHE PCD-01 over MLLP, as a hospital's monitor gateway does.

`ownat edge --simulate N --pcd-mllp HOST:PORT` and the embedded demo (one CCU bed) use it: each
vitals message of the simulator becomes one ORU^R01 (`devices.protocol.pcd01_message`) sent on one MLLP
connection, waiting for its ACK before the next, as most gateways do. A message the platform
refused (AE, AR) was kept there as a dead letter, so it is not sent again; a lost connection or
an unanswered message is sent again after a backoff, so nothing is lost on the way. The device is
named by an EUI-64 derived from its id and, when given, by its bed (PV1-3), which Ownat resolves
through the bed's binding if the EUI-64 is not registered.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Mapping
from itertools import count

from devices.protocol import END_BLOCK, Observation, VitalsMessage, can_send, frame, pcd01_message
from edge.backoff import Backoff

log = logging.getLogger(__name__)
ACK_TIMEOUT_S = 30.0


def eui64_for(device_id: str) -> str:
    """A stable EUI-64 for a simulated device (a monitor has one burnt in; ours is derived)."""
    return hashlib.sha256(device_id.encode()).hexdigest()[:16].upper()


class PcdMllpSender:
    """Sends (device id, vitals message) pairs as PCD-01 to host:port; `run` until the stream ends."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        beds: Mapping[str, tuple[str, str, str]] | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.host, self.port = host, port
        self._beds = dict(beds or {})
        self._backoff = backoff or Backoff(base_s=0.5, cap_s=30.0)
        self._numbers = count(1)
        self.acknowledged = 0
        self.refused = 0

    async def run(self, stream: AsyncIterator[tuple[str, VitalsMessage]]) -> None:
        """Sends every message of `stream`, reconnecting as needed."""
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            async for device_id, message in stream:
                raw = self.message_for(device_id, message)
                if raw is None:
                    continue
                connection = await self._deliver(raw, connection)
        finally:
            if connection is not None:
                connection[1].close()

    def message_for(self, device_id: str, message: VitalsMessage) -> str | None:
        """The PCD-01 text of a vitals message (None when it holds nothing PCD-01 can name)."""
        observations = [
            Observation(r.metric, r.value, r.time) for r in message.readings if can_send(r.metric)
        ]
        if not observations:
            return None
        return pcd01_message(
            eui64=eui64_for(device_id),
            observations=observations,
            control_id=f"{device_id}-{message.seq}-{next(self._numbers)}"[:199],
            bed=self._beds.get(device_id, ("", "", "")),
        )

    async def _deliver(
        self, raw: str, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        attempt = 0
        while True:
            try:
                if connection is None:
                    connection = await asyncio.open_connection(self.host, self.port)
                reader, writer = connection
                writer.write(frame(raw))
                await writer.drain()
                async with asyncio.timeout(ACK_TIMEOUT_S):
                    answer = await reader.readuntil(END_BLOCK)
            except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
                if connection is not None:
                    connection[1].close()
                connection = None
                delay_s = self._backoff.delay_s(attempt)
                log.warning(
                    "PCD-01 to %s:%s not acknowledged (%s); again in %.1f s",
                    self.host,
                    self.port,
                    error,
                    delay_s,
                )
                attempt += 1
                await asyncio.sleep(delay_s)
                continue
            self._note(answer)
            return connection

    def _note(self, answer: bytes) -> None:
        text = answer.decode("utf-8", errors="replace")
        msa = next((s.split("|") for s in text.split("\r") if s.lstrip("\x0b").startswith("MSA")), [])
        if len(msa) > 1 and msa[1] in ("AA", "CA"):
            self.acknowledged += 1
        else:
            self.refused += 1
            log.warning("PCD-01 message refused by the platform: %s", " | ".join(msa[1:4]))
