"""A real Mosquitto of a test's own: a free loopback port, a directory of its own, stop and start.

    with private_mosquitto() as broker:                  # anonymous broker, for clients that need one
        connect(broker.host, broker.port)
        broker.stop(); ...; broker.start()               # an outage, same port, new process

    with private_mosquitto(config=lambda port, directory: f"listener {port} 127.0.0.1\\n...") as broker:

    with private_mosquitto(config_path=path, port=port) as broker:   # a configuration written elsewhere

The machine's own broker on 1883 is never touched. Start waits for Mosquitto's "running" log line,
so a configuration must leave logging on stdout or stderr at the default level (the default does).
When the tests run as root, Mosquitto drops to its own user; the broker's directory is handed to it.

`Mqtt5Client` is a small MQTT 5 client for such tests: it returns the reason codes of CONNACK, PUBACK
and SUBACK, which is how a broker says "not authorised".
"""

from __future__ import annotations

import asyncio
import collections
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.ports import free_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
# Mosquitto's stdout is block-buffered into a pipe; stdbuf makes it line-buffered so its log arrives live.
STDBUF = shutil.which("stdbuf")
HOST = "127.0.0.1"
START_TIMEOUT_S = 10.0  # a guard against a broker that never comes up, not a timing assertion
STOP_TIMEOUT_S = 10.0
GUARD_S = 10.0  # a guard against hanging, never a timing assertion
LOG_LINES_KEPT = 500

ConfigWriter = Callable[[int, Path], str]


def anonymous_config(port: int, directory: Path) -> str:
    """A broker accepting anyone on `port`, logging to stdout."""
    return f"listener {port} {HOST}\nallow_anonymous true\nlog_dest stdout\n"


class PrivateMosquitto:
    """One Mosquitto process at a time on a fixed port; `stop()` and `start()` simulate outages."""

    def __init__(self, *, config_path: Path, port: int, directory: Path) -> None:
        self.host = HOST
        self.port = port
        self.config_path = config_path
        self.directory = directory
        self._process: subprocess.Popen[bytes] | None = None
        self._log: collections.deque[str] = collections.deque(maxlen=LOG_LINES_KEPT)

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        """The running broker's process id (a restart changes it)."""
        if self._process is None:
            raise RuntimeError("the private Mosquitto is not running")
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log(self) -> str:
        """The broker's recent log lines, for assertion messages."""
        return "\n".join(self._log)

    def start(self) -> None:
        """Starts the broker and returns once it says it is running (RuntimeError if it exits instead)."""
        if self.running:
            return
        _hand_to_mosquitto_user(self.directory)
        command = [MOSQUITTO, "-c", str(self.config_path)]
        process = subprocess.Popen(
            [STDBUF, "-oL", *command] if STDBUF else command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=self.directory,
        )
        self._process = process
        ready = threading.Event()
        threading.Thread(target=self._read_log, args=(process, ready), daemon=True).start()
        ready.wait(START_TIMEOUT_S)
        if process.poll() is not None or not ready.is_set():
            self.stop()
            raise RuntimeError(f"the private Mosquitto did not start:\n{self.log()}")

    def stop(self) -> None:
        """Stops the broker (SIGTERM, then SIGKILL if it lingers) and waits for it to exit."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _read_log(self, process: subprocess.Popen[bytes], ready: threading.Event) -> None:
        # Draining the pipe also keeps a chatty broker from blocking on a full one.
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip()
            self._log.append(line)
            if " running" in line:
                ready.set()
        ready.set()  # exited: let start() see it at once


def _hand_to_mosquitto_user(directory: Path) -> None:
    # Run as root, Mosquitto switches to its own user before it reads its plugins' files or writes.
    if os.geteuid() != 0:
        return
    try:
        account = pwd.getpwnam("mosquitto")
    except KeyError:
        return
    for path in [directory, *directory.rglob("*")]:
        os.chown(path, account.pw_uid, account.pw_gid)


@contextmanager
def private_mosquitto(
    config: ConfigWriter | None = None,
    *,
    config_path: Path | None = None,
    port: int | None = None,
    directory: Path | None = None,
) -> Iterator[PrivateMosquitto]:
    """A started private broker, stopped and its temporary directory removed on exit."""
    own_directory = directory is None
    workdir = Path(tempfile.mkdtemp(prefix="ownat-mosquitto-")) if directory is None else directory
    try:
        if config_path is None:
            port = port or free_port()
            config_path = workdir / "mosquitto.conf"
            config_path.write_text((config or anonymous_config)(port, workdir))
        elif port is None:
            raise ValueError("give the port that the configuration at config_path listens on")
        broker = PrivateMosquitto(config_path=config_path, port=port, directory=workdir)
        broker.start()
        try:
            yield broker
        finally:
            broker.stop()
    finally:
        if own_directory:
            shutil.rmtree(workdir, ignore_errors=True)


class Mqtt5Client:
    """A paho MQTT 5 client on its own thread; reason codes of CONNACK, PUBACK and SUBACK come back as ints."""

    def __init__(self, port: int, username: str | None = None, password: str | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._port = port
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self.connack: asyncio.Future[int] = self._loop.create_future()
        self.disconnected = asyncio.Event()
        self.messages: asyncio.Queue[mqtt.MQTTMessage] = asyncio.Queue()
        self.paho = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"test-{secrets.token_hex(5)}",
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=False,
        )
        if username is not None:
            self.paho.username_pw_set(username, password)
        self.paho.on_connect = lambda _c, _u, _f, reason, _p: self._soon(
            self._settle, self.connack, reason.value
        )
        self.paho.on_disconnect = lambda *_: self._soon(self.disconnected.set)
        self.paho.on_message = lambda _c, _u, message: self._soon(self.messages.put_nowait, message)
        self.paho.on_publish = lambda _c, _u, mid, reason, _p: self._soon(self._answer, mid, reason.value)
        self.paho.on_subscribe = lambda _c, _u, mid, reasons, _p: self._soon(
            self._answer, mid, [reason.value for reason in reasons]
        )

    async def connect(self) -> int:
        """The CONNACK's reason code (0: accepted)."""
        self.paho.connect_async(HOST, self._port, keepalive=30)
        self.paho.loop_start()
        async with asyncio.timeout(GUARD_S):
            return await self.connack

    async def publish(self, topic: str, payload: bytes) -> int:
        """Publishes at QoS 1; the PUBACK's reason code."""
        info = self.paho.publish(topic, payload, qos=1)
        return int(await self._wait(info.mid))

    async def subscribe(self, topic_filter: str) -> list[int]:
        """The SUBACK's reason codes (granted QoS, or >= 0x80 refused)."""
        _, mid = self.paho.subscribe(topic_filter, qos=1)
        assert mid is not None
        return list(await self._wait(mid))

    async def next_message(self) -> mqtt.MQTTMessage:
        async with asyncio.timeout(GUARD_S):
            return await self.messages.get()

    async def wait_disconnected(self) -> None:
        async with asyncio.timeout(GUARD_S):
            await self.disconnected.wait()

    async def close(self) -> None:
        self.paho.disconnect()
        # loop_stop() joins paho's thread: blocking, so it runs in a worker thread.
        await asyncio.to_thread(self.paho.loop_stop)

    def _soon(self, callback: Callable[..., None], *args: Any) -> None:
        self._loop.call_soon_threadsafe(callback, *args)

    @staticmethod
    def _settle(future: asyncio.Future[Any], value: Any) -> None:
        if not future.done():
            future.set_result(value)

    def _answer(self, mid: int, value: Any) -> None:
        self._settle(self._pending.setdefault(mid, self._loop.create_future()), value)

    async def _wait(self, mid: int) -> Any:
        async with asyncio.timeout(GUARD_S):
            return await self._pending.setdefault(mid, self._loop.create_future())
