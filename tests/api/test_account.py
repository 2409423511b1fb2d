"""Self-service accounts over HTTP: sign-up and verification, forgotten passwords, password change, signing
out everywhere; the same answers whether or not an address has an account; throttling; the audit trail."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit.models import AuditEvent
from core.identity.models import User
from core.outbox import EventType
from core.principal import Role
from tests.account_helpers import account_emails, emailed_token
from tests.builders import bearer, create_user, login_tokens, strong_password, unique_email
from tests.conftest import AppFactory

REGISTER = "/api/v1/auth/register"
FORGOT = "/api/v1/auth/forgot-password"


def sign_up_body(email: str, password: str | None = None, **more: Any) -> dict[str, Any]:
    return {"email": email, "password": password or strong_password(), "full_name": "Robin Okafor", **more}


async def signed_up(client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
    """A verified account made through the public flow; its address and password."""
    email, password = unique_email("signup"), strong_password()
    assert (await client.post(REGISTER, json=sign_up_body(email, password))).status_code == 202
    token = await emailed_token(sessions, email, EventType.ACCOUNT_VERIFY_EMAIL)
    assert (await client.post("/api/v1/auth/verify-email", json={"token": token})).status_code == 200
    return email, password


async def audit_actions(sessions: async_sessionmaker[AsyncSession], user_id: object) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.outcome)
            .where(AuditEvent.resource_type == "user", AuditEvent.resource_id == str(user_id))
            .order_by(AuditEvent.seq)
        )
        return [(action, outcome) for action, outcome in rows]


async def test_sign_up_answers_alike_for_new_and_taken_addresses_and_the_emails_say_which(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    taken, _ = await create_user(sessions, role=Role.PATIENT)
    fresh = unique_email("fresh")
    new_answer = await client.post(REGISTER, json=sign_up_body(fresh))
    taken_answer = await client.post(REGISTER, json=sign_up_body(taken.email.upper()))
    assert (new_answer.status_code, new_answer.json()) == (taken_answer.status_code, taken_answer.json())
    assert new_answer.status_code == 202
    assert [e.event_type for e in await account_emails(sessions, fresh)] == [EventType.ACCOUNT_VERIFY_EMAIL]
    assert [e.event_type for e in await account_emails(sessions, taken.email)] == [
        EventType.ACCOUNT_ALREADY_REGISTERED
    ]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).where(User.email == taken.email)) == 1
        new_user = await session.scalar(select(User).where(User.email == fresh))
    assert new_user is not None and new_user.email_verified_at is None
    assert ("sign-up", "success") in await audit_actions(sessions, new_user.id)
    assert ("sign-up", "failure") in await audit_actions(sessions, taken.id)


async def test_a_new_account_signs_in_only_after_its_link_is_opened_and_the_link_works_once(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    email, password = unique_email("verify"), strong_password()
    await client.post(REGISTER, json=sign_up_body(email, password, birth_date="1990-04-02"))
    refused = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert refused.status_code == 403 and refused.json()["code"] == "email-not-verified"
    token = await emailed_token(sessions, email, EventType.ACCOUNT_VERIFY_EMAIL)
    assert (await client.post("/api/v1/auth/verify-email", json={"token": token})).status_code == 200
    again = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert again.status_code == 400 and again.json()["code"] == "invalid-link"
    tokens = await login_tokens(client, email, password)
    me = (await client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))).json()
    record = await client.get(f"/api/v1/patients/{me['patient_id']}", headers=bearer(tokens["access_token"]))
    assert record.json()["birth_date"] == "1990-04-02"


async def test_signing_up_again_before_verifying_sends_a_new_link_and_retires_the_old(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    email = unique_email("twice")
    await client.post(REGISTER, json=sign_up_body(email))
    first = await emailed_token(sessions, email, EventType.ACCOUNT_VERIFY_EMAIL)
    await client.post("/api/v1/auth/resend-verification", json={"email": email})
    second = await emailed_token(sessions, email, EventType.ACCOUNT_VERIFY_EMAIL)
    assert first != second
    assert (await client.post("/api/v1/auth/verify-email", json={"token": first})).status_code == 400
    assert (await client.post("/api/v1/auth/verify-email", json={"token": second})).status_code == 200


async def test_concurrent_sign_ups_of_one_address_make_one_account(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    body = sign_up_body(unique_email("twin"))
    answers = await asyncio.gather(*(client.post(REGISTER, json=body) for _ in range(3)))
    assert [a.status_code for a in answers] == [202, 202, 202]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).where(User.email == body["email"])) == 1


async def test_a_refused_birth_date_reads_the_same_for_a_taken_address(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    taken, _ = await create_user(sessions, role=Role.PATIENT)
    future = {"birth_date": "2999-01-01"}
    for email in (taken.email, unique_email("future")):
        response = await client.post(REGISTER, json=sign_up_body(email, **future))
        assert response.status_code == 422 and "in the future" in response.json()["detail"]


async def test_forgotten_password_answers_alike_and_the_reset_link_sets_a_new_password_once(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    email, old_password = await signed_up(client, sessions)
    before_reset = await login_tokens(client, email, old_password)
    stranger = unique_email("nobody")
    known = await client.post(FORGOT, json={"email": email})
    unknown = await client.post(FORGOT, json={"email": stranger})
    assert (known.status_code, known.json()) == (
        unknown.status_code,
        unknown.json(),
    ) and known.status_code == 202
    assert [e.event_type for e in await account_emails(sessions, stranger)] == [EventType.ACCOUNT_NOT_FOUND]

    token = await emailed_token(sessions, email, EventType.ACCOUNT_PASSWORD_RESET)
    weak = await client.post("/api/v1/auth/reset-password", json={"token": token, "password": "short"})
    assert weak.status_code == 422 and weak.json()["rule"] == "password-min-length"
    new_password = strong_password()
    reset = await client.post("/api/v1/auth/reset-password", json={"token": token, "password": new_password})
    assert reset.status_code == 200, reset.text
    reused = await client.post(
        "/api/v1/auth/reset-password", json={"token": token, "password": strong_password()}
    )
    assert reused.status_code == 400 and reused.json()["code"] == "invalid-link"

    old = await client.post("/api/v1/auth/login", json={"email": email, "password": old_password})
    assert old.status_code == 401
    await login_tokens(client, email, new_password)
    # Every session of the old password ended: its refresh token no longer renews.
    renewal = await client.post("/api/v1/auth/refresh", json={"refresh_token": before_reset["refresh_token"]})
    assert renewal.status_code == 401
    assert EventType.ACCOUNT_PASSWORD_CHANGED in [e.event_type for e in await account_emails(sessions, email)]


async def test_account_emails_are_throttled_per_address_whether_or_not_it_has_an_account(
    app_with: AppFactory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    known, _ = await create_user(sessions, role=Role.PATIENT)
    unknown = unique_email("flood")
    async with app_with(account_emails_per_address=2) as app:
        transport = httpx.ASGITransport(app=app, client=("198.51.100.77", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://ownat.test") as client:
            answers = {
                email: [(await client.post(FORGOT, json={"email": email})).status_code for _ in range(3)]
                for email in (known.email, unknown)
            }
            refused = await client.post(REGISTER, json=sign_up_body(unknown))
    assert answers == {known.email: [202, 202, 429], unknown: [202, 202, 429]}
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert len(await account_emails(sessions, unknown)) == 2
    async with sessions() as session:
        denied = await session.scalar(
            select(func.count()).where(
                AuditEvent.action == "password-reset-request",
                AuditEvent.outcome == "denied",
                AuditEvent.detail["email"].as_string() == unknown,
            )
        )
    assert denied == 1


async def test_links_are_throttled_per_client(
    app_with: AppFactory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with app_with(login_attempts_per_address=2) as app:
        transport = httpx.ASGITransport(app=app, client=("198.51.100.78", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://ownat.test") as client:
            codes = [
                (await client.post("/api/v1/auth/verify-email", json={"token": f"guess-{n}"})).status_code
                for n in range(3)
            ]
    assert codes == [400, 400, 429]


async def test_changing_the_password_checks_the_old_one_and_ends_the_other_sessions(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, password = await create_user(sessions, role=Role.NURSE)
    other_device = await login_tokens(client, user.email, password)
    this_device = await login_tokens(client, user.email, password)
    headers = bearer(this_device["access_token"])
    new_password = strong_password()
    wrong = await client.post(
        "/api/v1/auth/change-password",
        json={"current_password": "not-it-at-all", "new_password": new_password},
        headers=headers,
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "current_password"
    changed = await client.post(
        "/api/v1/auth/change-password",
        json={"current_password": password, "new_password": new_password},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    fresh = changed.json()
    assert (await client.get("/api/v1/auth/me", headers=bearer(fresh["access_token"]))).status_code == 200
    for stale in (other_device, this_device):
        renewal = await client.post("/api/v1/auth/refresh", json={"refresh_token": stale["refresh_token"]})
        assert renewal.status_code == 401
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
    ).is_success
    assert [a for a in await audit_actions(sessions, user.id) if a[0] == "password-change"] == [
        ("password-change", "failure"),
        ("password-change", "success"),
    ]


async def test_signing_out_everywhere_ends_every_session_and_this_token(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, password = await create_user(sessions, role=Role.PATIENT)
    phone = await login_tokens(client, user.email, password)
    laptop = await login_tokens(client, user.email, password)
    headers = bearer(laptop["access_token"])
    assert (await client.post("/api/v1/auth/sign-out-everywhere", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401
    for device in (phone, laptop):
        renewal = await client.post("/api/v1/auth/refresh", json={"refresh_token": device["refresh_token"]})
        assert renewal.status_code == 401
    assert ("sign-out-everywhere", "success") in await audit_actions(sessions, user.id)


async def test_account_changes_need_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    body = {"current_password": "x" * 12, "new_password": "y" * 12}
    assert (await client.post("/api/v1/auth/change-password", json=body)).status_code == 401
    assert (await client.post("/api/v1/auth/sign-out-everywhere")).status_code == 401


async def test_the_password_rules_are_public(client: httpx.AsyncClient, settings) -> None:
    policy = (await client.get("/api/v1/auth/password-policy")).json()
    assert policy["min_length"] == settings.password_min_length
    assert any("email address" in rule for rule in policy["rules"])
