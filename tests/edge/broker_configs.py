"""Configurations for private Mosquitto brokers: persistence, TLS (with a throwaway CA), ACL."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.devices.private_mosquitto import HOST, ConfigWriter

READER, READER_PASSWORD = "reader", "reader-secret"
# Mosquitto's default keeps 1000 messages per offline client; an outage test may queue more.
UNLIMITED_QUEUES = "max_queued_messages 0\nmax_inflight_messages 0\n"


def persistent_config(port: int, directory: Path) -> str:
    """Anonymous, and keeps sessions and queued messages across a restart (saved at shutdown)."""
    return (
        f"listener {port} {HOST}\nallow_anonymous true\nlog_dest stdout\n"
        f"persistence true\npersistence_location {directory}/\n{UNLIMITED_QUEUES}"
    )


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(directory: Path, name: str) -> Path:
    """A self-signed CA certificate and key: `{name}.pem`, `{name}.key`."""
    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", f"/CN=Ownat test {name}",
        "-keyout", str(directory / f"{name}.key"), "-out", str(directory / f"{name}.pem"),
    )  # fmt: skip
    return directory / f"{name}.pem"


def make_certificate(directory: Path, ca: str, name: str, *, server: bool) -> tuple[Path, Path]:
    """A certificate signed by the CA `ca` (for 127.0.0.1 and localhost when `server`); (cert, key)."""
    key, request, cert = (directory / f"{name}.{suffix}" for suffix in ("key", "csr", "pem"))
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        f"/CN={name}",
        "-keyout",
        str(key),
        "-out",
        str(request),
    )
    extensions = directory / f"{name}.ext"
    extensions.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
        if server
        else "extendedKeyUsage=clientAuth\n"
    )
    openssl(
        "x509", "-req", "-in", str(request), "-CA", str(directory / f"{ca}.pem"),
        "-CAkey", str(directory / f"{ca}.key"), "-CAcreateserial", "-days", "2",
        "-extfile", str(extensions), "-out", str(cert),
    )  # fmt: skip
    return cert, key


def tls_config(*, require_client_certificate: bool = False) -> ConfigWriter:
    """A config writer: a TLS listener with a fresh CA and server certificate in the broker's directory."""

    def write(port: int, directory: Path) -> str:
        make_ca(directory, "ca")
        make_certificate(directory, "ca", "server", server=True)
        return (
            f"listener {port} {HOST}\nallow_anonymous true\nlog_dest stdout\n"
            f"cafile {directory}/ca.pem\ncertfile {directory}/server.pem\nkeyfile {directory}/server.key\n"
            f"require_certificate {'true' if require_client_certificate else 'false'}\n"
        )

    return write


def acl_config(passwords: dict[str, str]) -> ConfigWriter:
    """A config writer: accounts from `passwords`, each allowed to publish only under its own device id."""

    def write(port: int, directory: Path) -> str:
        password_file = directory / "passwords"
        for index, (username, password) in enumerate({**passwords, READER: READER_PASSWORD}.items()):
            create = ["-c"] if index == 0 else []
            subprocess.run(
                ["mosquitto_passwd", *create, "-b", str(password_file), username, password], check=True
            )
        # Devices write only under their own id (%u: the username); the reader reads everything.
        (directory / "acl").write_text(
            f"pattern write ownat/v1/devices/%u/#\nuser {READER}\ntopic read ownat/v1/devices/#\n"
        )
        return (
            f"listener {port} {HOST}\nallow_anonymous false\nlog_dest stdout\n"
            f"password_file {password_file}\nacl_file {directory}/acl\n"
        )

    return write
