"""`/dev/mail/`: the development mailbox page of `ownat dev` (no SMTP server in the embedded default).

Mounted by `ownat.embedded` only, in the development environment, when no SMTP server is set; no other
process has these routes. It is public on purpose: a newcomer reading their verification link has not
signed in yet. It shows every email of the demo, links included; nothing of the kind exists in production.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import SessionDep
from api.pages import page_response
from notifications import DevEmail, recent_emails

router = APIRouter(include_in_schema=False)


@router.get("/dev/mail/")
async def mailbox_page() -> Response:
    return page_response("dev/mail.html")


@router.get("/dev/mail/messages", response_model=list[DevEmail])
async def mailbox_messages(session: SessionDep) -> list[DevEmail]:
    return await recent_emails(session=session)
