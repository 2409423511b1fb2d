"""Fixtures of the tracing tests: a real OTLP/HTTP collector on loopback, and tracing on or off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core import tracing
from core.settings import Settings
from tests.tracing.collector import Collector


@pytest.fixture
def collector() -> Iterator[Collector]:
    with Collector().running() as running:
        yield running


@pytest.fixture
def traced(settings: Settings, collector: Collector) -> Iterator[Settings]:
    """Tracing on for this test, every new trace sampled, exporting to `collector`; off again after."""
    on = settings.model_copy(update={"otlp_endpoint": collector.endpoint, "trace_sample_ratio": 1.0})
    assert tracing.configure(on, process="test")
    try:
        yield on
    finally:
        tracing.shutdown()
