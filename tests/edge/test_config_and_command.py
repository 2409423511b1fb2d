"""The configuration file, how it becomes links, the `ownat edge` options, and the command end to end."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from edge.assembly import adapters, broker_settings, link_specs
from edge.backoff import Backoff
from edge.config import EdgeConfig, SimulatorAdapterConfig, load_config
from ownat.processes import edge as command
from tests.edge.subscriber import GUARD_S, Subscriber

CONFIG = """
status_interval_s = 5

[broker]
url = "mqtt://gateway-ward3:from-url@broker.example:1884"
mqtt_version = "5"
inflight = 4

[gateway]
username = "gateway-ward3"
password_file = "secrets/gateway"

[queue]
path = "state/queue.db"
max_rows = 1000

[[devices]]
id = "ward3-bed12"
password_file = "secrets/bed12"
adapter = { type = "simulator", scenario = "sepsis", time_scale = 360 }

[[devices]]
id = "ward3-scale"
adapter = { type = "simulator", kind = "scale" }
"""


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return parser.parse_args(argv)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "gateway").write_text("gateway-secret\n")
    (tmp_path / "secrets" / "bed12").write_text("bed12-secret\n")
    path = tmp_path / "edge.toml"
    path.write_text(CONFIG)
    return path


def test_a_configuration_file_builds_one_link_per_credentialed_device_and_a_shared_one(
    config_file: Path,
) -> None:
    config = load_config(config_file)
    broker = broker_settings(config)

    specs = link_specs(config, broker, queued_devices=["retired-device"])

    assert config.queue.path == config_file.parent / "state" / "queue.db"
    assert (broker.host, broker.port, broker.mqtt_version, broker.inflight) == (
        "broker.example",
        1884,
        "5",
        4,
    )
    assert broker.ssl_context is None
    own, shared = specs
    assert (own.client_id, own.username, own.password, own.devices) == (
        "ward3-bed12",
        "ward3-bed12",
        "bed12-secret",
        frozenset({"ward3-bed12"}),
    )
    assert (shared.username, shared.password, shared.exclude) == ("gateway-ward3", "gateway-secret", True)
    assert (
        shared.serves("ward3-scale") and shared.serves("retired-device") and not shared.serves("ward3-bed12")
    )
    [simulator] = adapters(config)
    assert [d.device_id for d in simulator.devices] == ["ward3-bed12", "ward3-scale"]  # type: ignore[attr-defined]


def test_without_a_gateway_account_the_url_credentials_are_used(tmp_path: Path) -> None:
    config = EdgeConfig.model_validate(
        {
            "broker": {"url": "mqtt://site:pw@broker"},
            "devices": [{"id": "a", "adapter": {"type": "simulator"}}],
        }
    )

    [shared] = link_specs(config, broker_settings(config))

    assert (shared.username, shared.password) == ("site", "pw")


def test_command_line_options_override_the_file(config_file: Path) -> None:
    args = parse(
        "--config", str(config_file), "--broker", "mqtt://other:1883", "--queue", "/tmp/q.db",
        "--max-queue-mb", "2", "--simulate", "3", "--scenario", "respiratory_failure", "--seed", "5",
    )  # fmt: skip

    config = command._configuration(args)

    assert config.broker.url == "mqtt://other:1883"
    assert config.broker.mqtt_version == "5"
    assert config.queue.path == Path("/tmp/q.db")
    assert config.queue.max_bytes == 2 * 1024 * 1024
    assert config.simulation.seed == 5
    simulated = [d for d in config.devices if d.id.startswith("sim-")]
    assert [d.id for d in simulated] == ["sim-001", "sim-002", "sim-003"]
    assert all(isinstance(d.adapter, SimulatorAdapterConfig) for d in simulated)
    assert [getattr(d.adapter, "scenario", None) for d in simulated] == [
        "respiratory_failure",
        "stable",
        "stable",
    ]
    assert (config.broker.end_to_end_ack, config.broker.ack_timeout_s) == (True, 5.0)


def test_the_end_to_end_acknowledgement_can_be_tuned_or_turned_off(config_file: Path) -> None:
    args = parse("--config", str(config_file), "--ack-timeout", "2.5", "--no-end-to-end-ack")

    settings = broker_settings(command._configuration(args))

    assert (settings.end_to_end_ack, settings.ack_timeout_s) == (False, 2.5)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--simulate", "1", "--scenario", "flu"], "scenario"),
        (["--simulate", "1", "--broker", "http://broker"], "mqtt://"),
        (["--simulate", "1", "--tls-insecure"], "tls_insecure only applies to TLS"),
        (["--simulate", "1", "--ca-file", "/nonexistent/ca.pem"], "No such file"),
        ([], "no devices"),
    ],
)
def test_bad_options_end_with_a_message_and_a_failure_status(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = command.run(parse(*argv, "--queue", str(tmp_path / "q.db")))

    assert status != 0
    assert message in capsys.readouterr().err


def test_a_bad_configuration_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "edge.json"
    path.write_text(
        '{"devices": [{"id": "a", "adapter": {"type": "simulator"}}, {"id": "a", "adapter": {}}]}'
    )

    with pytest.raises(ValueError, match="more than once"):
        load_config(path)


def test_backoff_grows_exponentially_to_its_cap_with_full_jitter() -> None:
    backoff = Backoff(base_s=0.5, cap_s=30.0)

    assert [backoff.ceiling_s(n) for n in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert backoff.ceiling_s(10_000) == 30.0
    delays = [backoff.delay_s(6) for _ in range(200)]
    assert all(0 <= delay <= 30 for delay in delays)
    # Full jitter: spread over the whole range, not clustered at the ceiling.
    assert min(delays) < 10 and max(delays) > 20
    with pytest.raises(ValueError):
        Backoff(base_s=5, cap_s=1)


async def test_ownat_edge_runs_simulated_devices_and_stops_cleanly_on_sigterm(
    mqtt_url: str, test_run_id: str, tmp_path: Path
) -> None:
    host, port = mqtt_url.removeprefix("mqtt://").split(":")
    prefix = f"{test_run_id}-cli"
    subscriber = Subscriber(
        host, int(port), "ownat/v1/devices/+/vitals", client_id=f"cli-{test_run_id}", device_prefix=prefix
    )
    await subscriber.start()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ownat.cli", "edge", "--broker", mqtt_url, "--simulate", "2",
        "--device-prefix", prefix, "--step-s", "0.05", "--queue", str(tmp_path / "queue.db"),
        "--status-interval-s", "0.1",
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        await subscriber.wait_until(lambda got: {d for d, _ in got} == {f"{prefix}-001", f"{prefix}-002"})
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(GUARD_S):
            output, _ = await process.communicate()
        await subscriber.stop()

    log = output.decode()
    assert process.returncode == 0, log
    assert "edge status: broker links" in log
    assert "edge gateway stopped" in log
