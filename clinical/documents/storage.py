"""Where document bytes live: a small interface, and its filesystem implementation.

Files are named by random keys, written to a temporary file and renamed into place once complete
(a reader never sees half a file), and hashed with SHA-256 while they stream in.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from core.errors import PayloadTooLarge

CHUNK_BYTES = 256 * 1024
_KEY_BYTES = 16


@dataclass(frozen=True, slots=True)
class StoredBlob:
    key: str
    size_bytes: int
    sha256: str


class BlobMissing(Exception):
    """No file is stored under the key."""


class BlobCorrupt(Exception):
    """The file under the key no longer has the expected checksum."""


class DocumentStorage(Protocol):
    async def save(self, chunks: AsyncIterator[bytes], *, max_bytes: int) -> StoredBlob:
        """Stores the stream under a new key; PayloadTooLarge (nothing kept) past `max_bytes`."""
        ...

    async def open_verified(self, key: str, *, sha256: str) -> AsyncIterator[bytes]:
        """The file's chunks, after checking the whole file against `sha256` (BlobMissing, BlobCorrupt)."""
        ...

    def discard(self, key: str) -> None:
        """Removes the file if present. Synchronous and quick: it runs in a rollback hook."""
        ...


class FileSystemStorage:
    """Files under `root/<first two characters of the key>/<key>`, readable by the owner only."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, key: str) -> Path:
        if len(key) != 2 * _KEY_BYTES or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key

    async def save(self, chunks: AsyncIterator[bytes], *, max_bytes: int) -> StoredBlob:
        key = secrets.token_hex(_KEY_BYTES)
        final = self.path_of(key)
        # Same directory as the final file, so that the rename is atomic (one filesystem).
        temporary = final.with_name(f".{key}.part")
        handle = await asyncio.to_thread(_create_exclusive, temporary)
        digest, size = hashlib.sha256(), 0
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"The file exceeds the limit of {max_bytes} bytes.")
                # Hashing and writing in a worker thread: both are blocking work on large buffers.
                await asyncio.to_thread(_write_and_hash, handle, digest, chunk)
            await asyncio.to_thread(_publish, handle, temporary, final)
        except BaseException:
            await asyncio.to_thread(_abandon, handle, temporary)
            raise
        return StoredBlob(key=key, size_bytes=size, sha256=digest.hexdigest())

    async def open_verified(self, key: str, *, sha256: str) -> AsyncIterator[bytes]:
        path = self.path_of(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise BlobMissing(key) from None
        try:
            # The same open handle is hashed and then served, so what was checked is what is sent.
            actual = await asyncio.to_thread(_hash_from_start, handle)
            if actual != sha256:
                raise BlobCorrupt(key)
        except BaseException:
            await asyncio.to_thread(handle.close)
            raise
        return _read_chunks(handle)

    def discard(self, key: str) -> None:
        self.path_of(key).unlink(missing_ok=True)


def _create_exclusive(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(descriptor, "wb")


def _write_and_hash(handle: BinaryIO, digest: hashlib._Hash, chunk: bytes) -> None:
    digest.update(chunk)
    handle.write(chunk)


def _publish(handle: BinaryIO, temporary: Path, final: Path) -> None:
    # Durable before visible: the data reaches the disk, then the rename, then the directory entry.
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    os.replace(temporary, final)
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _abandon(handle: BinaryIO, temporary: Path) -> None:
    handle.close()
    temporary.unlink(missing_ok=True)


def _hash_from_start(handle: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(CHUNK_BYTES):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


async def _read_chunks(handle: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)
