"""`ownat edge --simulate N --pcd-mllp HOST:PORT`: simulated monitors speak IHE PCD-01 over MLLP.

The listener is a real MLLP receiver on loopback that answers AA; the gateway runs as its own process.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from devices.protocol.pcd01 import END_BLOCK, frame

GUARD_S = 30.0  # a guard against hanging, never a timing assertion


async def test_simulated_monitors_send_pcd01_and_wait_for_each_ack() -> None:
    received: list[str] = []
    enough = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                message = (await reader.readuntil(END_BLOCK)).strip(b"\x0b\x1c\r").decode()
                received.append(message)
                control = message.split("\r")[0].split("|")[9]
                writer.write(
                    frame(f"MSH|^~\\&|OWNAT||SIM||20261207||ACK^R01^ACK|A1|P|2.6\rMSA|AA|{control}\r")
                )
                await writer.drain()
                if len(received) >= 3:
                    enough.set()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ownat.cli", "edge", "--simulate", "2", "--step-s", "0.2",
        "--pcd-mllp", f"127.0.0.1:{port}",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        async with asyncio.timeout(GUARD_S):
            await enough.wait()
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(process.communicate(), GUARD_S)
        server.close()
        await server.wait_closed()
    assert process.returncode == 0, output.decode()
    first = received[0]
    assert "ORU^R01^ORU_R01" in first and "1.3.6.1.4.1.19376.1.6.1.1.1" in first
    assert "^MDC_PULS_OXIM_SAT_O2^MDC|" in first and "^EUI-64" in first
