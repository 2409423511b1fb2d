"""Liveness, readiness and Prometheus metrics; public, for load balancers and scrapers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from api.deps import ResourcesDep
from api.problems import problem_response
from devices.broker import probe_broker

CHECK_TIMEOUT_S = 3.0

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database, the bus and the MQTT broker are reachable")
async def readyz(resources: ResourcesDep) -> JSONResponse:
    checks = {
        "database": _check_database(resources),
        "bus": resources.bus.ping(),
        # The probe gives up first, so its clearer reason wins over the generic time-out below.
        "broker": probe_broker(resources.settings.effective_mqtt_url, timeout_s=CHECK_TIMEOUT_S - 0.5),
    }
    results = await asyncio.gather(*(_timed(c) for c in checks.values()))
    outcome = dict(zip(checks, results, strict=True))
    failed = {name: reason for name, reason in outcome.items() if reason != "ok"}
    if not failed:
        return JSONResponse({"status": "ready", "checks": outcome})
    detail = "Not ready: " + "; ".join(f"{name}: {reason}" for name, reason in failed.items())
    return problem_response(
        status=503, code="not-ready", title="Service unavailable", detail=detail, checks=outcome
    )


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)


async def _check_database(resources: ResourcesDep) -> None:
    async with resources.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _timed(check: Awaitable[None]) -> str:
    try:
        await asyncio.wait_for(check, CHECK_TIMEOUT_S)
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT_S:g} s"
    except Exception as error:  # any failure of a dependency is the answer we report, not a crash
        return f"{type(error).__name__}: {error}"[:300]
    return "ok"
