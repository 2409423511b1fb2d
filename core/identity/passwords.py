"""Password hashing (argon2id) and the password policy.

Hashing and verifying take tens of milliseconds of CPU and 64 MiB on purpose, so the async
functions here run them in a worker thread; the event loop keeps serving other requests.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from functools import cache
from typing import NoReturn

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import InvalidInput

PASSWORD_MAX_LENGTH = 128

# A few of the passwords found at the top of every breach list, and words this product invites.
# Compared after stripping digits and punctuation from both ends, so "Password2024!" is caught too.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "abc",
        "abcdefghijkl",
        "admin",
        "administrator",
        "baseball",
        "changeme",
        "correcthorsebatterystaple",
        "doctor",
        "dragon",
        "football",
        "healthcare",
        "hospital",
        "iloveyou",
        "letmein",
        "master",
        "michael",
        "monkey",
        "nurse",
        "ownat",
        "passw0rd",
        "password",
        "passwordpassword",
        "patient",
        "princess",
        "qazwsxedc",
        "qwerty",
        "qwertyuiop",
        "qwertyuiopasdfgh",
        "shadow",
        "starwars",
        "sunshine",
        "superman",
        "telehealth",
        "trustno",
        "welcome",
        "whatever",
        "zaq1xsw2cde3",
        "zxcvbnm",
    }
)
_EDGE_CHARACTERS = "0123456789!@#$%^&*()-_=+.,;:?/\\|~`'\" "


@cache
def _hasher() -> PasswordHasher:
    # RFC 9106's second recommended option: argon2id, 3 passes over 64 MiB, 4 lanes.
    return PasswordHasher(
        time_cost=3, memory_cost=64 * 1024, parallelism=4, hash_len=32, salt_len=16, type=Type.ID
    )


@cache
def _dummy_hash() -> str:
    # Made once per process, on first use, so that unknown accounts cost as much as known ones.
    return _hasher().hash("ownat-dummy-password-for-timing")


async def hash_password(password: str) -> str:
    """The argon2id hash of `password` (computed in a thread)."""
    return await asyncio.to_thread(_hasher().hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        _hasher().verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash (unknown account) spends the same time and says no."""
    return await asyncio.to_thread(_verify, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def check_password_policy(password: str, *, min_length: int, email: str, full_name: str) -> None:
    """Raises InvalidInput naming the first rule `password` breaks."""
    if len(password) < min_length:
        _refuse("min-length", f"The password must be at least {min_length} characters long.")
    if len(password) > PASSWORD_MAX_LENGTH:
        _refuse("max-length", f"The password must be at most {PASSWORD_MAX_LENGTH} characters long.")
    lowered = password.lower()
    _, most_common_count = Counter(lowered).most_common(1)[0]
    if most_common_count * 2 > len(password):
        _refuse("repetitive", "The password must not consist mostly of one repeated character.")
    local_part = email.partition("@")[0].lower()
    if len(local_part) >= 3 and local_part in lowered:
        _refuse("contains-email", "The password must not contain your email address.")
    name_parts = [part for part in full_name.lower().split() if len(part) >= 3]
    if any(part in lowered for part in name_parts):
        _refuse("contains-name", "The password must not contain your name.")
    if lowered in COMMON_PASSWORDS or lowered.strip(_EDGE_CHARACTERS) in COMMON_PASSWORDS:
        _refuse("common", "The password is too common; choose a less predictable one, such as a passphrase.")


def _refuse(rule: str, message: str) -> NoReturn:
    raise InvalidInput(message, extra={"rule": f"password-{rule}"})
