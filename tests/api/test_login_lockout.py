"""Account lockout is not a denial of service: guessing from one address locks out that address
only; a distributed guess hits an account-wide ceiling, which the owner lifts by resetting the
password through the emailed link."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.outbox import EventType
from core.principal import Role
from tests.account_helpers import emailed_token
from tests.builders import create_user, http_client, strong_password
from tests.conftest import AppFactory

LOGIN = "/api/v1/auth/login"


async def attempt(client: httpx.AsyncClient, email: str, password: str) -> int:
    return (await client.post(LOGIN, json={"email": email, "password": password})).status_code


async def test_guessing_from_one_address_does_not_lock_the_owner_out_elsewhere(
    app_with: AppFactory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    owner, password = await create_user(sessions, role=Role.NURSE)
    async with app_with(login_attempts_per_account=3) as app:
        async with http_client(app, address="192.0.2.66") as guesser:
            codes = [await attempt(guesser, owner.email, "guess number one!") for _ in range(4)]
            assert codes == [401, 401, 401, 429]
            # The guesser stays refused, even with the right password.
            assert await attempt(guesser, owner.email, password) == 429
        async with http_client(app, address="198.51.100.20") as owner_device:
            assert await attempt(owner_device, owner.email, password) == 200


async def test_a_distributed_guess_meets_a_ceiling_that_a_password_reset_lifts(
    app_with: AppFactory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    owner, password = await create_user(sessions, role=Role.PATIENT)
    async with app_with(login_attempts_per_account=2, login_attempts_per_account_total=4) as app:
        for number in range(2):
            async with http_client(app, address=f"192.0.2.{number + 10}") as guesser:
                assert [await attempt(guesser, owner.email, "a wrong guess!!") for _ in range(2)] == [
                    401,
                    401,
                ]
        async with http_client(app, address="198.51.100.30") as owner_device:
            # Four guesses from anywhere: the account refuses sign-in for the rest of the window...
            assert await attempt(owner_device, owner.email, password) == 429
            # ...until its owner resets the password through the link emailed to them.
            asked = await owner_device.post("/api/v1/auth/forgot-password", json={"email": owner.email})
            assert asked.status_code == 202
            token = await emailed_token(sessions, owner.email, EventType.ACCOUNT_PASSWORD_RESET)
            new_password = strong_password()
            reset = await owner_device.post(
                "/api/v1/auth/reset-password", json={"token": token, "password": new_password}
            )
            assert reset.status_code == 200, reset.text
            assert await attempt(owner_device, owner.email, new_password) == 200
