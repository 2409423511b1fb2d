"""Liveness, readiness against the real services, and Prometheus metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from api.app import create_app
from core.settings import Settings
from tests.ports import free_port


@asynccontextmanager
async def _client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ownat.test") as http:
            yield http


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_with_the_real_services(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "bus": "ok", "broker": "ok"}}


async def test_readyz_names_an_unreachable_broker(settings: Settings) -> None:
    broken = settings.model_copy(update={"mqtt_url": f"mqtt://127.0.0.1:{free_port()}"})
    async with _client_for(broken) as http:
        response = await http.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["checks"]["database"] == "ok" and body["checks"]["bus"] == "ok"
    assert body["checks"]["broker"] != "ok"
    assert "broker" in body["detail"] and "database" not in body["detail"]


async def test_readyz_names_an_unreachable_database_and_redis(settings: Settings) -> None:
    port = free_port()
    broken = settings.model_copy(
        update={
            "database_url": f"postgresql+psycopg://postgres@127.0.0.1:{port}/nowhere",
            "redis_url": f"redis://127.0.0.1:{port}/0",
        }
    )
    async with _client_for(broken) as http:
        response = await http.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] != "ok" and checks["bus"] != "ok" and checks["broker"] == "ok"


async def test_metrics_count_requests_by_route(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert 'ownat_http_requests_total{method="GET",route="/healthz",status="200"}' in response.text
