"""The Grafana dashboard (deploy/grafana) only charts metrics the processes really export."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import CollectorRegistry

from api.middleware import HttpMetrics
from devices.ingest.metrics import IngestMetrics
from notifications.metrics import WorkerMetrics
from realtime.hub.metrics import HubMetrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "ownat.json"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def exported_names() -> set[str]:
    """Every series name the ingest worker, the api (hub, HTTP) and the notification worker expose."""
    registries = [IngestMetrics().registry, HubMetrics().registry]
    http = CollectorRegistry()
    HttpMetrics(http)
    worker = CollectorRegistry()
    WorkerMetrics(list).register(worker)
    names = set()
    for registry in [*registries, http, worker]:
        for family in registry.collect():
            names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return names


def charted_names() -> set[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    return {name for expr in expressions for name in re.findall(r"\bownat_[a-z0-9_]+", expr)}


def test_every_metric_on_the_dashboard_is_exported() -> None:
    charted = charted_names()
    assert len(charted) > 30
    assert charted <= exported_names(), sorted(charted - exported_names())


def test_every_hop_of_the_live_path_is_on_the_dashboard() -> None:
    hops = {
        name
        for name in exported_names()
        if re.fullmatch(r"ownat_(ingest|hub)_\w+_to_\w+_seconds_bucket", name)
    }
    assert len(hops) == 6  # five hops of a reading, and the alarm's last one
    assert hops <= charted_names()
