"""Everything a client can get wrong is answered as problem+json, with the request id, and never a 500."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from api.app import create_app
from core.errors import Conflict

PROBLEM = "application/problem+json"
REGISTER = "/api/v1/auth/register"


def _assert_problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert body["type"].endswith(code) and body["title"] and body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        REGISTER, content=b'{"email": ', headers={"content-type": "application/json"}
    )
    _assert_problem(response, 400, "malformed-json")


async def test_wrong_types_point_at_the_fields(client: httpx.AsyncClient) -> None:
    response = await client.post(REGISTER, json={"email": 42, "password": ["x"], "full_name": "Ada"})
    body = _assert_problem(response, 422, "validation-failed")
    pointers = {error["pointer"] for error in body["errors"]}
    assert {"#/body/email", "#/body/password"} <= pointers
    assert "#/body/email" in body["detail"]


async def test_unknown_fields_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        REGISTER, json={"email": "a@example.org", "password": "x" * 20, "full_name": "A", "role": "admin"}
    )
    body = _assert_problem(response, 422, "validation-failed")
    assert any(error["pointer"] == "#/body/role" for error in body["errors"])


async def test_oversize_body_is_413(client: httpx.AsyncClient, settings) -> None:
    response = await client.post(REGISTER, content=b"x" * (settings.max_request_body_bytes + 1))
    body = _assert_problem(response, 413, "payload-too-large")
    assert str(settings.max_request_body_bytes) in body["detail"]


async def test_oversize_chunked_body_is_413(client: httpx.AsyncClient, settings) -> None:
    async def chunks():
        for _ in range(settings.max_request_body_bytes // 65536 + 2):
            yield b"y" * 65536

    response = await client.post(REGISTER, content=chunks(), headers={"content-type": "application/json"})
    _assert_problem(response, 413, "payload-too-large")


async def test_unknown_path_and_method(client: httpx.AsyncClient) -> None:
    _assert_problem(await client.get("/api/v1/no-such-thing"), 404, "not-found")
    _assert_problem(await client.delete("/healthz"), 405, "method-not-allowed")


async def test_missing_token_is_401_with_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/auth/me")
    _assert_problem(response, 401, "not-authenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    supplied = "trace-0123456789abcdef"
    assert (await client.get("/healthz", headers={"x-request-id": supplied})).headers[
        "x-request-id"
    ] == supplied
    generated = (await client.get("/healthz", headers={"x-request-id": "bad id\n"})).headers["x-request-id"]
    assert generated != "bad id\n" and len(generated) == 32


async def test_a_bug_is_a_500_problem_that_leaks_nothing(settings) -> None:
    app: FastAPI = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal state")

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ownat.test") as http:
            response = await http.get("/boom")
    body = _assert_problem(response, 500, "internal-error")
    assert "secret" not in response.text
    assert body["instance"] == "/boom"


async def test_domain_error_extras_never_replace_standard_members(settings) -> None:
    app: FastAPI = create_app(settings)

    @app.get("/transition")
    async def transition() -> None:
        raise Conflict(
            "A completed appointment cannot be cancelled.", extra={"status": "completed", "allowed": []}
        )

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ownat.test") as http:
            response = await http.get("/transition")
    body = _assert_problem(response, 409, "conflict")
    assert body["status_"] == "completed" and body["allowed"] == []
