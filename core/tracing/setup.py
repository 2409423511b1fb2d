"""Turning tracing on for a process from its settings, and off again.

Tracing is process-wide, like logging: the hooks sit deep in hot paths (a message received, a frame
sent), so they ask this module once, when the component that holds them is built, instead of being
handed a tracer through every layer. Our own `TracerProvider` is kept here, not installed as
OpenTelemetry's global one, so that a process that never sets `OWNAT_OTLP_ENDPOINT` has no
provider, no exporter thread and no span objects at all, and tests can turn tracing on and off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from opentelemetry.trace import Tracer

from core.settings import Settings
from core.tracing import database

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

TRACES_PATH = "/v1/traces"
INSTRUMENTATION_NAME = "ownat"
# Spans waiting for the exporter: beyond this they are dropped (and the SDK logs it), never queued
# without bound in a process that serves patients.
MAX_QUEUED_SPANS = 8192


@dataclass(slots=True)
class _ProcessTracing:
    provider: TracerProvider | None = None
    tracer: Tracer | None = None


# The one per process; see the module docstring for why this is not passed around.
_PROCESS = _ProcessTracing()


def traces_url(endpoint: str) -> str:
    """The collector's traces URL: `/v1/traces` is added to a base URL, as OTLP exporters do."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


def configure(settings: Settings, *, process: str) -> bool:
    """Starts exporting this process's spans when `otlp_endpoint` is set; True when tracing is on.

    Call it once, first thing in a process (before building the ingest worker, the hub or the
    notification worker, which look once whether tracing is on); a second call changes nothing.
    """
    if _PROCESS.tracer is not None:
        return True
    if not settings.otlp_endpoint:
        return False
    # Imported here: a process with tracing off never loads the SDK, the exporter or protobuf.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    resource = Resource.create(
        {
            "service.name": f"{settings.trace_service_name}-{process}",
            "service.namespace": settings.trace_service_name,
            "deployment.environment.name": settings.environment,
        }
    )
    provider = TracerProvider(
        resource=resource, sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio))
    )
    exporter = OTLPSpanExporter(endpoint=traces_url(settings.otlp_endpoint), timeout=settings.otlp_timeout_s)
    provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=MAX_QUEUED_SPANS))
    _PROCESS.provider = provider
    _PROCESS.tracer = provider.get_tracer(INSTRUMENTATION_NAME)
    database.start(_PROCESS.tracer)
    return True


def tracer() -> Tracer | None:
    """This process's tracer, or None while tracing is off: the one check every hook makes."""
    return _PROCESS.tracer


def flush(timeout_s: float = 10.0) -> bool:
    """Exports every finished span now; True when they all went (or tracing is off)."""
    provider = _PROCESS.provider
    return True if provider is None else provider.force_flush(int(timeout_s * 1000))


def shutdown() -> None:
    """Exports what is left and turns tracing off (components built meanwhile keep their tracer)."""
    provider = _PROCESS.provider
    _PROCESS.provider = _PROCESS.tracer = None
    database.stop()
    if provider is not None:
        provider.shutdown()
