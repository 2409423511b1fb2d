"""The audit log's keys: HMAC keys that the processes hold and the database never sees.

Each key has an id, stamped on every entry, seal and checkpoint it signs, so keys can rotate: the
active key signs, retired keys only verify. From a key's secret one sub-key per purpose is derived
(HMAC-SHA256 of the secret over a label naming the purpose and the key id), so an entry's MAC can
never pass for a seal's or a checkpoint's, and a secret cannot be relabelled under another id.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.settings import Settings


class Purpose(StrEnum):
    ENTRY = "entry"
    SEAL = "seal"
    CHECKPOINT = "checkpoint"


@dataclass(frozen=True, slots=True)
class AuditKey:
    key_id: str
    _subkeys: dict[Purpose, bytes] = field(repr=False)

    @classmethod
    def from_secret(cls, key_id: str, secret: str) -> AuditKey:
        """Derives the key's sub-keys from its secret."""
        material = secret.encode()
        subkeys = {
            purpose: hmac.digest(material, f"ownat-audit/v1/{purpose}/{key_id}".encode(), "sha256")
            for purpose in Purpose
        }
        return cls(key_id, subkeys)

    def mac(self, purpose: Purpose, message: bytes) -> str:
        """HMAC-SHA256 of `message` under this key's sub-key for `purpose`, as hex."""
        return hmac.new(self._subkeys[purpose], message, hashlib.sha256).hexdigest()

    def verifies(self, purpose: Purpose, message: bytes, mac: str | None) -> bool:
        """Whether `mac` is this key's MAC of `message` (compared in constant time)."""
        return mac is not None and hmac.compare_digest(self.mac(purpose, message), mac)


class AuditKeyring:
    """The active key, which signs, and the retired ones, which still verify what they signed."""

    def __init__(self, active: AuditKey, retired: Iterable[AuditKey] = ()) -> None:
        self.active = active
        self._by_id = {key.key_id: key for key in retired} | {active.key_id: active}

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditKeyring:
        """The keys of OWNAT_AUDIT_KEY / OWNAT_AUDIT_KEY_ID and OWNAT_AUDIT_RETIRED_KEYS."""
        active = AuditKey.from_secret(settings.audit_key_id, settings.audit_key.get_secret_value())
        retired = (
            AuditKey.from_secret(key_id, secret.get_secret_value())
            for key_id, secret in settings.audit_retired_keys.items()
        )
        return cls(active, retired)

    def get(self, key_id: str | None) -> AuditKey | None:
        """The key with this id, or None when it is not configured here."""
        return self._by_id.get(key_id) if key_id is not None else None
