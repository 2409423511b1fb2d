"""How the edge gateway reaches the broker: address, MQTT version, TLS, timeouts, in-flight window.

TLS is on when the URL says `mqtts://` or a CA file is given. The server's certificate is always
verified against the CA file (or the system's trust store); `tls_insecure` skips only the check
that the certificate names the host, for a broker reached by an address its certificate does not
list, and is never the default.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge.backoff import Backoff

MqttVersion = Literal["3.1.1", "5"]


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """Files for TLS to the broker (PEM); a client certificate and key are optional."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False

    def context(self) -> ssl.SSLContext:
        """An SSL context that verifies the broker (reads the files: call it once, at startup)."""
        if self.key_file is not None and self.cert_file is None:
            raise ValueError("a client key needs its certificate (cert_file)")
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.ca_file)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.cert_file is not None:
            context.load_cert_chain(self.cert_file, self.key_file)
        if self.insecure:
            context.check_hostname = False
        return context


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Where the broker is and how each link talks to it."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    mqtt_version: MqttVersion = "3.1.1"
    ssl_context: ssl.SSLContext | None = None
    keepalive_s: int = 30
    connect_timeout_s: float = 10.0
    # Unacknowledged messages a link may have at once (see edge.forwarder).
    inflight: int = 16
    backoff: Backoff = field(default_factory=Backoff)
    # Keep messages until the platform has committed them (see edge.confirmations); off, a message
    # leaves the queue on the broker's PUBACK (a platform that publishes no acknowledgements).
    end_to_end_ack: bool = True
    ack_timeout_s: float = 5.0
    ack_timeout_cap_s: float = 60.0
    ack_window: int = 1000

    def __post_init__(self) -> None:
        if self.inflight < 1:
            raise ValueError("inflight must be at least 1")
        if self.ack_timeout_s <= 0 or self.ack_window < 1:
            raise ValueError("ack_timeout_s must be positive and ack_window at least 1")
        if self.keepalive_s < 5:
            raise ValueError("keepalive_s must be at least 5")

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "mqtts" if self.ssl_context is not None else "mqtt"
        return f"{scheme}://{host}:{self.port}"

    def new_client(self, client_id: str, username: str | None, password: str | None) -> mqtt.Client:
        """A fresh paho client for one connection attempt, with a clean session."""
        if self.mqtt_version == "5":
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        else:
            client = mqtt.Client(
                CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True, protocol=mqtt.MQTTv311
            )
        client.connect_timeout = self.connect_timeout_s
        if username is not None:
            client.username_pw_set(username, password)
        if self.ssl_context is not None:
            client.tls_set_context(self.ssl_context)
        return client

    def connect(self, client: mqtt.Client) -> None:
        """Opens the connection and sends CONNECT (blocking: call it on a worker thread)."""
        if self.mqtt_version == "5":
            client.connect(self.host, self.port, self.keepalive_s, clean_start=True)
        else:
            client.connect(self.host, self.port, self.keepalive_s)
