"""Self-service accounts: sign-up, email verification, forgotten passwords, password change and
signing out everywhere. The first four are public and answer alike whether or not an address has an
account (see `core.identity.account`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from api.deps import CurrentPrincipal, ResourcesDep, SessionDep
from clinical import patients
from core import identity
from core.audit import client_address_var
from core.identity import (
    PASSWORD_MAX_LENGTH,
    Accepted,
    AddressRequest,
    LinkRedemption,
    PasswordChange,
    PasswordPolicyRead,
    PasswordReset,
    PatientRegistration,
    TokenPair,
)

# Answers that must not tell whether an address has an account take at least this long, counted to
# after the commit: an existing account costs a few milliseconds more (a link to store), which the floor
# hides (bench/account measures both kinds of answer). Sign-up's password hashing mostly exceeds it.
EVEN_ANSWER_S = 0.25


async def even_answer_time() -> AsyncIterator[None]:
    """Holds the answer until EVEN_ANSWER_S after the request began (declared before the session, so
    that this runs after its commit)."""
    started = time.monotonic()
    yield
    await asyncio.sleep(max(0.0, EVEN_ANSWER_S - (time.monotonic() - started)))


EvenAnswer = Annotated[None, Depends(even_answer_time, scope="function")]

public_router = APIRouter(prefix="/auth", tags=["account"])
router = APIRouter(prefix="/auth", tags=["account"])

CHECK_YOUR_EMAIL = Accepted(
    detail="Thank you. We have sent an email to this address: follow it to finish. "
    "If nothing arrives within a few minutes, look in your spam folder or try again."
)


@public_router.get(
    "/password-policy", response_model=PasswordPolicyRead, summary="The rules for a new password"
)
async def password_policy(resources: ResourcesDep) -> PasswordPolicyRead:
    minimum = resources.settings.password_min_length
    return PasswordPolicyRead(
        min_length=minimum,
        max_length=PASSWORD_MAX_LENGTH,
        rules=[
            f"At least {minimum} characters (a few words make a good one).",
            "Not mostly one repeated character.",
            "Not containing your email address or your name.",
            "Not a common password.",
        ],
    )


@public_router.post(
    "/register",
    status_code=202,
    response_model=Accepted,
    summary="Sign up as a patient; the account works once its email address is verified",
)
async def register(
    body: PatientRegistration, _even: EvenAnswer, session: SessionDep, resources: ResourcesDep
) -> Accepted:
    # Checked first, so that a refused birth date reads the same whether or not the address is taken.
    patients.check_online_registration(birth_date=body.birth_date)
    user = await identity.sign_up(
        session=session,
        settings=resources.settings,
        limiter=resources.rate_limiter,
        registration=body,
        client_address=client_address_var.get(),
    )
    if user is not None:
        # The patient's clinical record, in the same transaction: both exist, or neither does.
        assert user.patient_id is not None  # set for every patient account
        await patients.register_online_patient(
            session=session,
            actor=user.as_principal(),
            user_id=user.id,
            patient_id=user.patient_id,
            full_name=user.full_name,
            email=user.email,
            given_name=body.given_name,
            family_name=body.family_name,
            birth_date=body.birth_date,
        )
    return CHECK_YOUR_EMAIL


@public_router.post(
    "/verify-email", response_model=Accepted, summary="Verify an address with its emailed link"
)
async def verify_email(body: LinkRedemption, session: SessionDep, resources: ResourcesDep) -> Accepted:
    await identity.verify_email(
        session=session,
        settings=resources.settings,
        limiter=resources.rate_limiter,
        token=body.token,
        client_address=client_address_var.get(),
    )
    return Accepted(detail="Your email address is confirmed. You can sign in now.")


@public_router.post(
    "/resend-verification", status_code=202, response_model=Accepted, summary="Email a new verification link"
)
async def resend_verification(
    body: AddressRequest, _even: EvenAnswer, session: SessionDep, resources: ResourcesDep
) -> Accepted:
    await identity.resend_verification(
        session=session,
        settings=resources.settings,
        limiter=resources.rate_limiter,
        email=body.email,
        client_address=client_address_var.get(),
    )
    return CHECK_YOUR_EMAIL


@public_router.post(
    "/forgot-password", status_code=202, response_model=Accepted, summary="Email a password reset link"
)
async def forgot_password(
    body: AddressRequest, _even: EvenAnswer, session: SessionDep, resources: ResourcesDep
) -> Accepted:
    await identity.request_password_reset(
        session=session,
        settings=resources.settings,
        limiter=resources.rate_limiter,
        email=body.email,
        client_address=client_address_var.get(),
    )
    return CHECK_YOUR_EMAIL


@public_router.post(
    "/reset-password", response_model=Accepted, summary="Set a new password with a reset link"
)
async def reset_password(body: PasswordReset, session: SessionDep, resources: ResourcesDep) -> Accepted:
    await identity.reset_password(
        session=session,
        settings=resources.settings,
        limiter=resources.rate_limiter,
        token=body.token,
        new_password=body.password,
        client_address=client_address_var.get(),
    )
    return Accepted(
        detail="Your password is changed and every session was signed out. Sign in with the new one."
    )


@router.post(
    "/change-password",
    response_model=TokenPair,
    summary="Change your password; other sessions end, this one gets new tokens",
)
async def change_password(
    body: PasswordChange,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
) -> TokenPair:
    return await identity.change_password(
        session=session,
        settings=resources.settings,
        limiter=resources.rate_limiter,
        actor=principal,
        current_password=body.current_password,
        new_password=body.new_password,
        client_address=client_address_var.get(),
        user_agent=request.headers.get("user-agent"),
    )


@router.post("/sign-out-everywhere", status_code=204, summary="End every session of your account")
async def sign_out_everywhere(
    principal: CurrentPrincipal, session: SessionDep, resources: ResourcesDep
) -> None:
    await identity.sign_out_everywhere(
        session=session, revocations=resources.revocations, settings=resources.settings, actor=principal
    )
