"""Log lines are JSON and carry the request id of the request that wrote them."""

from __future__ import annotations

import json
import logging

from core.logging import JsonFormatter, request_id_var


def test_json_line_carries_request_id_and_extra_fields() -> None:
    token = request_id_var.set("req-0123456789")
    try:
        record = logging.LogRecord("ownat.test", logging.WARNING, __file__, 1, "slot %s taken", ("A",), None)
        record.patient_count = 3
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "slot A taken"
    assert line["level"] == "warning" and line["logger"] == "ownat.test"
    assert line["request_id"] == "req-0123456789"
    assert line["patient_count"] == 3
