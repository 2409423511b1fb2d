"""What a file really is, judged by its first bytes, and a safe name to offer it under."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from clinical.documents.exceptions import UnsupportedMediaType

# Signatures from the formats' specifications: PDF 1.7 (ISO 32000-1, 7.5.2), PNG (RFC 2083, 3.1),
# JPEG/JFIF (SOI marker followed by the start of another marker).
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
SNIFF_BYTES = max(len(signature) for signature, _ in SIGNATURES)
EXTENSIONS = {"application/pdf": (".pdf",), "image/png": (".png",), "image/jpeg": (".jpg", ".jpeg")}
ALLOWED_TYPES = tuple(EXTENSIONS)
# Types a client sends when it does not know better; the content decides then.
UNINFORMATIVE_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_UNSAFE_IN_NAMES = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]')
FILENAME_MAX_CHARS = 200


def detect_content_type(head: bytes, *, declared: str | None) -> str:
    """The allowed type `head` starts with; UnsupportedMediaType if none, or if `declared` disagrees."""
    detected = next((kind for signature, kind in SIGNATURES if head.startswith(signature)), None)
    if detected is None:
        allowed = ", ".join(ALLOWED_TYPES)
        raise UnsupportedMediaType(f"The file's content is not one of the accepted types ({allowed}).")
    declared_type = (declared or "").split(";", 1)[0].strip().lower()
    if declared_type not in UNINFORMATIVE_TYPES and declared_type != detected:
        raise UnsupportedMediaType(
            f"The file was declared as {declared_type} but its content is {detected}; declare the real type."
        )
    return detected


def safe_filename(client_name: str | None, *, content_type: str) -> str:
    """A display name without paths or control characters, ending in an extension of its type."""
    # Browsers on Windows may send a full path; keep only the last component of either style.
    name = PureWindowsPath(PurePosixPath(client_name or "").name).name
    name = _UNSAFE_IN_NAMES.sub("_", unicodedata.normalize("NFC", name)).strip(" .")
    extensions = EXTENSIONS[content_type]
    stem = name or "document"
    if not stem.lower().endswith(extensions):
        stem = f"{stem}{extensions[0]}"
    if len(stem) > FILENAME_MAX_CHARS:
        suffix = extensions[0]
        stem = stem[: FILENAME_MAX_CHARS - len(suffix)] + suffix
    return stem


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """A Content-Disposition value (RFC 6266) with an ASCII fallback and the UTF-8 name (RFC 8187)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%' else "_" for c in filename)
    encoded = quote(filename, safe="")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
