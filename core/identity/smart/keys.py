"""The key that signs OpenID id_tokens (RS256, as OpenID Connect requires) and its published JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core.settings import Settings

ID_TOKEN_ALGORITHM = "RS256"  # noqa: S105 (an algorithm name)
KEY_FILE = "smart-signing-key.pem"


@dataclass(frozen=True, slots=True)
class SigningKey:
    private_pem: bytes
    kid: str
    public_jwk: dict[str, Any]

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private_pem, algorithm=ID_TOKEN_ALGORITHM, headers={"kid": self.kid})


def signing_key(settings: Settings) -> SigningKey:
    """The configured key, or the data dir's own (generated on first use, readable by us only)."""
    if settings.smart_signing_key is not None:
        return _load(settings.smart_signing_key.get_secret_value().encode())
    return _load(_data_dir_key(settings.data_dir))


def _data_dir_key(data_dir: Path) -> bytes:
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        # O_EXCL: two processes starting together keep whichever key was written first.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
    return path.read_bytes()


@cache
def _load(pem: bytes) -> SigningKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("OWNAT_SMART_SIGNING_KEY must be an RSA private key")
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    kid = _thumbprint(public)
    return SigningKey(pem, kid, {**public, "kid": kid, "alg": ID_TOKEN_ALGORITHM, "use": "sig"})


def _thumbprint(jwk: dict[str, Any]) -> str:
    # RFC 7638: SHA-256 of the required members in lexicographic order, base64url.
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def public_jwks(settings: Settings) -> dict[str, Any]:
    """The JWK Set apps verify id_tokens with."""
    return {"keys": [signing_key(settings).public_jwk]}
