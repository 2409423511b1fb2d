"""Settings of the server-side peers, from `OWNAT_` environment variables like the rest."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PeerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OWNAT_", env_file=".env", extra="ignore")

    # Each peer costs a UDP socket and, when recording, an encoder on this process's event loop.
    consult_peers_max: int = Field(default=16, ge=1)
    # How long a pre-call check may run before the server hangs up.
    precall_duration_s: int = Field(default=120, ge=5, le=1800)
    # Checks a user may start per window (a check is cheap for them and costly for the server).
    precall_per_window: int = Field(default=6, ge=1)
    precall_window_s: int = Field(default=3600, ge=60)
    # A forgotten recording stops by itself; the file goes to the record all the same.
    recording_max_s: int = Field(default=3 * 3600, ge=60)
    recording_max_bytes: int = Field(default=4 * 1024**3, ge=1_048_576)
    # Every party's video is scaled to this size; VGA is what the consult pages send.
    recording_width: int = Field(default=640, ge=64, le=1920)
    recording_height: int = Field(default=480, ge=48, le=1080)
    # STUN/TURN URLs for the server's own peers; empty on a LAN or when the server has a public address.
    consult_peer_ice_urls: list[str] = Field(default_factory=list)


def load_peer_settings(**overrides: object) -> PeerSettings:
    """Reads the environment now; callers own the instance."""
    return PeerSettings(**overrides)  # type: ignore[arg-type]
