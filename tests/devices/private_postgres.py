"""A PostgreSQL cluster of a test's own, in a temporary directory on a free port, to stop and start at will.

The machine's shared PostgreSQL serves every other test; a fault test must never restart it. initdb
refuses to run as root, so the server runs as the `postgres` OS user (through `runuser` when we
are root). Trust authentication on loopback only, small buffers, no durability shortcuts: a
restart must behave as in production.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.ports import free_port

PG_BIN = Path(os.environ.get("OWNAT_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
RUN_AS = "postgres"


class PrivatePostgres:
    """initdb + pg_ctl around one throw-away cluster; `url` is its SQLAlchemy URL."""

    def __init__(self) -> None:
        self.port = free_port()
        self._root = Path(tempfile.mkdtemp(prefix="ownat-pg-"))
        self.data_dir = self._root / "data"
        self.log_path = self._root / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        """Creates the cluster (does not start it)."""
        if os.geteuid() == 0:
            shutil.chown(self._root, RUN_AS, RUN_AS)
        self._run(PG_BIN / "initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        settings = (
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nshared_buffers = 32MB\n"
            "max_connections = 40\nunix_socket_directories = ''\nfsync = on\n"
        )
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(settings)

    def start(self) -> None:
        self._run(
            PG_BIN / "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_path), "-w", "-t", "60", "start"
        )

    def stop(self) -> None:
        """Fast shutdown: open connections are cut, as in a real restart."""
        self._run(PG_BIN / "pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop")

    def destroy(self) -> None:
        """Stops the server if running and removes every file."""
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run(
                self._command(PG_BIN / "pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"),
                check=False,
                capture_output=True,
            )
        shutil.rmtree(self._root, ignore_errors=True)

    def _command(self, *args: object) -> list[str]:
        command = [str(a) for a in args]
        return ["runuser", "-u", RUN_AS, "--", *command] if os.geteuid() == 0 else command

    def _run(self, *args: object) -> None:
        result = subprocess.run(self._command(*args), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = self.log_path.read_text() if self.log_path.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {result.stdout}{result.stderr}\n{log}")
