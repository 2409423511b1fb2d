"""The part of the Bluetooth driver that needs a radio: bleak connects and subscribes, nothing more.

Install it with `pip install 'ownat[bluetooth]'` (bleak uses BlueZ over D-Bus on Linux, CoreBluetooth
on macOS, WinRT on Windows). The device must be paired first if it asks for it (`bluetoothctl`,
`pair <address>`). Parsing and everything after it is in `edge.ble.driver`, tested without a radio.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from edge.backoff import Backoff
from edge.ble.driver import BleDevice, OnConnection, OnNotification

logger = logging.getLogger(__name__)

_SIG_BASE = "0000{:04x}-0000-1000-8000-00805f9b34fb"


class BleakSource:
    """Connects to one device, subscribes to its measurement characteristics, reconnects when it goes."""

    def __init__(self, device: BleDevice, *, backoff: Backoff | None = None) -> None:
        self.device = device
        self.backoff = backoff or Backoff(base_s=1.0, cap_s=60.0)

    async def run(self, on_notification: OnNotification, on_connection: OnConnection) -> None:
        from bleak import BleakClient  # optional dependency: only a gateway with Bluetooth has it
        from bleak.exc import BleakError

        attempt = 0
        while True:
            gone = asyncio.Event()
            try:
                async with BleakClient(self.device.address, disconnected_callback=_setter(gone)) as client:
                    offered = {c.uuid.lower() for s in client.services for c in s.characteristics}
                    wanted = [n for n in self.device.characteristics if _SIG_BASE.format(n) in offered]
                    for number in wanted:
                        # Bound per characteristic: the callback tells only the characteristic object.
                        await client.start_notify(_SIG_BASE.format(number), _forward(number, on_notification))
                    logger.info("bluetooth %s connected, listening to %s", self.device.device_id, wanted)
                    attempt = 0
                    on_connection(True)
                    await gone.wait()
                on_connection(False)
            except (BleakError, OSError, TimeoutError) as error:
                logger.warning("bluetooth %s: %s", self.device.device_id, error)
            # Home devices sleep between measurements: waiting for them is the normal case.
            await asyncio.sleep(self.backoff.delay_s(attempt))
            attempt += 1


def _setter(event: asyncio.Event) -> Callable[[Any], None]:
    def disconnected(_client: Any) -> None:
        event.set()

    return disconnected


def _forward(number: int, on_notification: OnNotification) -> Callable[[Any, bytearray], None]:
    # bleak's callback names only the characteristic object: the number is bound here, per subscription.
    def notified(_characteristic: Any, data: bytearray) -> None:
        on_notification(number, bytes(data))

    return notified
