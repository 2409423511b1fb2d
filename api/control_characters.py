"""Refuses control characters in text input at the edge, before any handler, service or database sees them.

PostgreSQL text cannot hold NUL, and no field of ours has a use for the other C0 and C1 controls or for
unpaired UTF-16 surrogates (which cannot be encoded at all); left in, they surface as 500s deep in a
driver, or as log and CSV injection later. So every text input is checked here once, for every route:
the path, each query parameter, the headers, JSON bodies (strings and keys, at any depth) and form
fields (names, values and file names). Tab, line feed and carriage return are allowed in body text,
where free text lives; nowhere else. The refusal is a 422 problem+json (under `/fhir`, a 400
OperationOutcome) naming the field with a JSON pointer in the style of validation errors
(`#/query/name`, `#/body/note/text`, `#/header/idempotency-key`).

Other bodies pass unchecked: files are bytes, and HL7 v2 messages are acknowledged by their own intake
(which makes NUL visible), as the HL7 standard asks, rather than refused by HTTP.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_response
from clinical.fhir import FHIR_MEDIA_TYPE, operation_outcome

# C0 controls, DEL, C1 controls and lone surrogates; free text keeps tab, line feed and carriage return.
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_IN_FREE_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Header bytes: HTTP allows tab; bytes 0x80 and up are UTF-8 or Latin-1 text, not controls.
_CONTROL_IN_HEADER = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
# A JSON body can only carry a control character or a surrogate as a \u escape (raw ones are invalid
# JSON, refused by the parser): bodies without such an escape are not parsed twice.
_SUSPECT_JSON_ESCAPE = re.compile(rb"\\u(00[01]|007[fF]|00[89]|[dD][89a-fA-F])")
FHIR_PATH = "/fhir/"


class ControlCharacterMiddleware:
    """Answers 422 (400 OperationOutcome under /fhir) to a request with a control character in its input."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = _in_path_query_or_headers(scope)
        if field is not None:
            await _refusal(scope, field)(scope, receive, send)
            return
        content_type = _content_type(scope)
        if not (_is_json(content_type) or content_type.startswith(_FORM_TYPES)):
            await self.app(scope, receive, send)
            return
        body, finished = await _read_body(receive)
        field = _in_body(content_type, body) if finished else None
        if field is not None:
            await _refusal(scope, field)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-type":
            return value.decode("latin-1").strip().lower()
    return ""


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";")[0].strip()
    return media_type == "application/json" or media_type.endswith("+json")


def _escaped(text: str) -> str:
    # A field named with a control character is named with it escaped.
    return text.encode("unicode_escape").decode("ascii")


def _in_path_query_or_headers(scope: Scope) -> str | None:
    if _ANY_CONTROL.search(scope.get("path", "")):
        return "#/path"
    query = scope.get("query_string", b"").decode("latin-1")
    # The same decoding as Starlette's: percent-escapes as UTF-8, anything undecodable replaced.
    for name, value in parse_qsl(query, keep_blank_values=True):
        if _ANY_CONTROL.search(name) or _ANY_CONTROL.search(value):
            return f"#/query/{_escaped(name)}"
    for name, value in scope.get("headers", []):
        if _CONTROL_IN_HEADER.search(value):
            return f"#/header/{_escaped(name.decode('latin-1').lower())}"
    return None


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole body (already capped by the size limit), and whether it arrived whole."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _in_body(content_type: str, body: bytes) -> str | None:
    if _is_json(content_type):
        if not _SUSPECT_JSON_ESCAPE.search(body):
            return None
        try:
            document = json.loads(body)
        except ValueError:
            return None  # the endpoint answers malformed JSON itself
        return _in_json(document, "#/body")
    if content_type.startswith("application/x-www-form-urlencoded"):
        text = body.decode("utf-8", errors="replace")
        for name, value in parse_qsl(text, keep_blank_values=True):
            if _CONTROL_IN_FREE_TEXT.search(name) or _CONTROL_IN_FREE_TEXT.search(value):
                return f"#/body/{_escaped(name)}"
        return None
    return _in_multipart(content_type, body)


def _in_json(value: Any, pointer: str) -> str | None:
    if isinstance(value, str):
        return pointer if _CONTROL_IN_FREE_TEXT.search(value) else None
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _in_json(item, f"{pointer}/{index}")
            if found is not None:
                return found
    if isinstance(value, dict):
        for key, item in value.items():
            # JSON pointer escaping (RFC 6901) keeps a key with "/" one step of the path.
            step = _escaped(key).replace("~", "~0").replace("/", "~1")
            if _CONTROL_IN_FREE_TEXT.search(key):
                return f"{pointer}/{step}"
            found = _in_json(item, f"{pointer}/{step}")
            if found is not None:
                return found
    return None


def _in_multipart(content_type: str, body: bytes) -> str | None:
    """The first form field (name, value or file name) with a control character; file contents are skipped."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        return None
    found: list[str] = []
    part: dict[str, Any] = {}

    def on_part_begin() -> None:
        part.clear()
        part.update(headers={}, field=b"", value=b"", data=[], name="", filename=None)

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part["value"] += data[start:end]

    def on_header_end() -> None:
        part["headers"][part["field"].lower()] = part["value"]
        part["field"], part["value"] = b"", b""

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(part["headers"].get(b"content-disposition", b""))
        part["name"] = disposition.get(b"name", b"").decode("utf-8", errors="replace")
        part["filename"] = disposition.get(b"filename")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if part["filename"] is None:  # a file's content is not text
            part["data"].append(data[start:end])

    def on_part_end() -> None:
        name, filename = part["name"], part["filename"]
        if _CONTROL_IN_FREE_TEXT.search(name):
            found.append(f"#/body/{_escaped(name)}")
        elif filename is not None:
            if _ANY_CONTROL.search(filename.decode("utf-8", errors="replace")):
                found.append(f"#/body/{_escaped(name)}/filename")
        elif _CONTROL_IN_FREE_TEXT.search(b"".join(part["data"]).decode("utf-8", errors="replace")):
            found.append(f"#/body/{_escaped(name)}")

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
    try:
        parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
        parser.write(body)
        parser.finalize()
    except MultipartParseError:
        pass  # a malformed form is the endpoint's to refuse, in its own words
    return found[0] if found else None


def _refusal(scope: Scope, pointer: str) -> Response:
    detail = (
        f"{pointer} contains a control character (such as NUL) or an unpaired surrogate, which no field "
        "accepts; only body text may hold tabs and line breaks."
    )
    path = str(scope.get("path", ""))
    if path.startswith(FHIR_PATH):
        outcome = operation_outcome(status=400, diagnostics=detail, error_code="control-character")
        outcome["issue"][0]["expression"] = [pointer]
        return JSONResponse(outcome, status_code=400, media_type=FHIR_MEDIA_TYPE)
    return problem_response(
        status=422,
        code="control-character",
        title="Control character in input",
        detail=detail,
        # The path itself is the bad input then; repeating it would echo the character back.
        instance=None if pointer == "#/path" else path,
        errors=[{"pointer": pointer, "detail": "contains a control character", "type": "control_character"}],
    )
