"""`/dev/smart-app/`: the demo SMART app of `ownat dev`, a public client in one page of JavaScript.

Mounted by `ownat.embedded` only, in the development environment. It stands for a third-party app:
it talks to Ownat only through the discovery document, `/oauth/*` and `/fhir/R4`, as any app would.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.pages import page_response

router = APIRouter(include_in_schema=False)


@router.get("/dev/smart-app/")
async def demo_app_page() -> Response:
    return page_response("dev/smart-app.html")
