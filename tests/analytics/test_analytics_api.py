"""The analytics API: administrators only, JSON and CSV, clear errors, every read audited."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from core.audit.models import AuditEvent
from core.principal import Role
from tests.builders import signed_in

RANGE = {"start": "2026-03-02", "end": "2026-03-09"}
REPORTS = [
    "demographics",
    "appointments-by-practitioner",
    "appointments-by-department",
    "consultation-durations",
    "alarms-by-ward",
    "device-coverage",
]


async def test_an_administrator_lists_the_reports(client, sessions) -> None:
    _, admin = await signed_in(client, sessions, Role.ADMIN)
    response = await client.get("/api/v1/analytics/reports", headers=admin)
    assert response.status_code == 200
    assert [entry["name"] for entry in response.json()] == REPORTS


async def test_each_report_answers_json_with_its_range(client, sessions) -> None:
    _, admin = await signed_in(client, sessions, Role.ADMIN)
    for name in REPORTS:
        response = await client.get(f"/api/v1/analytics/reports/{name}", params=RANGE, headers=admin)
        assert response.status_code == 200, (name, response.text)
        body = response.json()
        assert (body["name"], body["start"], body["end"]) == (name, RANGE["start"], RANGE["end"])
        assert all(len(row) == len(body["columns"]) for row in body["rows"])


async def test_csv_export_has_the_header_and_a_file_name(client, sessions) -> None:
    _, admin = await signed_in(client, sessions, Role.ADMIN)
    response = await client.get(
        "/api/v1/analytics/reports/demographics", params={**RANGE, "format": "csv"}, headers=admin
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="demographics_2026-03-02_2026-03-09.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["age_band", "male", "female", "other", "unknown", "total", "registered_in_range"]
    assert [row[0] for row in rows[1:]] == ["0-17", "18-39", "40-64", "65-79", "80+", "unknown"]
    accepted = await client.get(
        "/api/v1/analytics/reports/demographics", params=RANGE, headers={**admin, "Accept": "text/csv"}
    )
    assert accepted.headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.NURSE, Role.PATIENT])
async def test_only_administrators_read_reports_and_refusals_are_audited(
    client, sessions, role: Role
) -> None:
    user, headers = await signed_in(client, sessions, role)
    response = await client.get("/api/v1/analytics/reports/alarms-by-ward", params=RANGE, headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/analytics/reports", headers=headers)).status_code == 403
    async with sessions() as session:
        outcomes = (
            await session.scalars(
                select(AuditEvent.outcome).where(
                    AuditEvent.actor_id == user.id, AuditEvent.resource_type == "analytics-report"
                )
            )
        ).all()
    assert outcomes == ["denied", "denied"]


async def test_without_a_token_the_answer_is_401(client) -> None:
    response = await client.get("/api/v1/analytics/reports/demographics", params=RANGE)
    assert response.status_code == 401


async def test_a_report_read_is_audited_with_its_range(client, sessions) -> None:
    admin_user, admin = await signed_in(client, sessions, Role.ADMIN)
    await client.get("/api/v1/analytics/reports/device-coverage", params=RANGE, headers=admin)
    async with sessions() as session:
        event = (
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.actor_id == admin_user.id, AuditEvent.resource_type == "analytics-report"
                )
            )
        ).one()
    assert (event.action, event.resource_id, event.outcome) == ("read", "device-coverage", "success")
    assert (event.detail["start"], event.detail["end"]) == (RANGE["start"], RANGE["end"])


BAD_REQUESTS = [
    ("demographics", {"start": "2026-03-09", "end": "2026-03-02"}, 422, "must be after"),
    ("demographics", {"start": "2020-01-01", "end": "2026-01-01"}, 422, "at most 731 days"),
    ("demographics", {"start": "2026-03-02"}, 422, "end"),
    ("demographics", {"start": "yesterday", "end": "2026-03-02"}, 422, "start"),
    ("device-coverage", {"start": "2024-01-01", "end": "2026-03-01"}, 422, "at most 731 days"),
    ("no-such-report", RANGE, 404, "GET /api/v1/analytics/reports"),
]


async def test_bad_requests_get_a_clear_problem(client, sessions) -> None:
    _, admin = await signed_in(client, sessions, Role.ADMIN)
    for path, params, status, fragment in BAD_REQUESTS:
        response = await client.get(f"/api/v1/analytics/reports/{path}", params=params, headers=admin)
        assert response.status_code == status, (path, params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert fragment in str(response.json()), (path, params)
