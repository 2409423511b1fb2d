"""`python -m bench.fanout.otlp_sink PORT REPORT`: the collector of a traced run, on loopback.

Accepts OTLP/HTTP `POST /v1/traces`, counts the spans (protobuf, decoded in C) and the bytes, and
writes the totals to REPORT as JSON when terminated: a real collector would do more work, on
another machine.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

totals = {"requests": 0, "spans": 0, "bytes": 0}
_lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        spans = sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
        with _lock:
            totals["requests"] += 1
            totals["spans"] += spans
            totals["bytes"] += len(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


def main(port: int, report: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)

    def stop(*_args: Any) -> None:
        report.write_text(json.dumps(totals))
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    print("listening", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
