"""The edge agent runs with only pydantic and paho-mqtt: none of the server's dependencies load.

A fresh interpreter (`-I`: no environment variables, no user site, no current directory on the
path) installs an import hook before anything else that refuses the server's packages, so the
failure names the module that tried to import one; the modules are then imported and `ownat
edge --help` is built, as the edge install would.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

# The server's third-party dependencies (see pyproject's `server` extra) and their own.
SERVER_ONLY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "psycopg",
    "psycopg_binary",
    "aiosqlite",
    "alembic",
    "redis",
    "pydantic_settings",
    "email_validator",
    "jwt",
    "argon2",
    "prometheus_client",
    "multipart",
    "httpx",
    "amqtt",
)
GUARD = textwrap.dedent(
    """
    import sys

    BLOCKED = set(sys.argv[1].split(","))

    class RefuseServerPackages:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ImportError(f"the edge agent imported {name}, a server-only package")
            return None

    sys.meta_path.insert(0, RefuseServerPackages())
    """
)


# The edge's optional extras (`sdc`, `bluetooth`): loaded only when an SDC or Bluetooth device runs.
OPTIONAL = ("sdc11073", "bleak", "lxml")


def run_guarded(code: str, blocked: tuple[str, ...] = SERVER_ONLY) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", "-c", GUARD + textwrap.dedent(code), ",".join(blocked)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_edge_modules_import_without_server_packages() -> None:
    result = run_guarded(
        """
        import devices.simulator, edge.adapters, edge.assembly, edge.config
        import edge.connection, edge.forwarder, edge.gateway, edge.queue, edge.store, edge.pcd_mllp
        import edge.driven, edge.ble.characteristics, edge.ble.driver, edge.ble.radio
        import edge.sdc.mapping, edge.sdc.consumer, edge.sdc.provider

        first_party = ("core", "api", "clinical", "billing", "realtime", "notifications", "ownat", "devices", "edge")
        loaded = sorted(m for m in sys.modules if m.partition(".")[0] in first_party)
        allowed = ("edge", "devices.protocol", "devices.simulator")
        extra = [
            m for m in loaded
            if m != "devices" and not m.startswith(allowed)
        ]
        assert not extra, f"the edge agent loaded platform modules: {extra}"
        print("ok", len(loaded))
        """,
        SERVER_ONLY + OPTIONAL,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


def test_ownat_edge_starts_without_server_packages() -> None:
    result = run_guarded(
        """
        from ownat.cli import main
        try:
            main(["edge", "--help"])
        except SystemExit as done:
            assert done.code == 0, done.code
        """
    )

    assert result.returncode == 0, result.stderr
    assert "--simulate" in result.stdout
    assert "--ca-file" in result.stdout


def test_the_guard_does_catch_a_server_import() -> None:
    result = run_guarded("import sqlalchemy")

    assert result.returncode != 0
    assert "the edge agent imported sqlalchemy" in result.stderr
