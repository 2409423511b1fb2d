"""The web pages: static HTML shells and their assets from `web/`, served with strict security headers.

The pages hold no data: their JavaScript signs in and talks to the REST API with a bearer token, so
these routes are public. Assets are served from an allow-list of file types under `web/`, never from
outside it; there is no build step.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response

from core.errors import NotFound

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"

# Scripts and styles only from this origin and never inline; nothing may frame the pages.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
ASSET_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
# Pages change with each release and must never show a stale sign-in; assets may be revalidated.
PAGE_CACHE = "no-store"
ASSET_CACHE = "no-cache"

router = APIRouter(include_in_schema=False)


def page_response(relative: str) -> Response:
    """An HTML page from `web/` with the security headers."""
    return FileResponse(
        _file(relative),
        media_type="text/html; charset=utf-8",
        headers={**SECURITY_HEADERS, "Cache-Control": PAGE_CACHE},
    )


def _file(relative: str) -> Path:
    path = (WEB_ROOT / relative).resolve()
    # Resolving first and then checking the prefix refuses "..", symlinks out and absolute paths.
    if not path.is_relative_to(WEB_ROOT) or not path.is_file():
        raise NotFound(f"There is no page or asset at /{relative}.")
    return path


@router.get("/favicon.ico")
async def favicon() -> Response:
    # Browsers ask for it at the root whatever the page links; the pages link it too.
    return FileResponse(
        _file("favicon.ico"),
        media_type=ASSET_TYPES[".ico"],
        headers={**SECURITY_HEADERS, "Cache-Control": ASSET_CACHE},
    )


@router.get("/")
async def sign_in_page() -> Response:
    return page_response("index.html")


@router.get("/portal/")
async def patient_portal() -> Response:
    return page_response("portal/index.html")


@router.get("/staff/")
async def staff_home() -> Response:
    return page_response("staff/index.html")


@router.get("/portal/billing")
async def patient_bills() -> Response:
    return page_response("portal/billing.html")


@router.get("/billing/")
async def billing_office() -> Response:
    return page_response("billing/index.html")


@router.get("/billing")
async def billing_office_slash() -> Response:
    return RedirectResponse(url="/billing/", status_code=308)


# The administration sections share one shell; its script loads the section named in the path.
ADMIN_SECTIONS = frozenset(
    {"users", "organisation", "schedules", "devices", "audit", "system", "analytics", "requests", "apps"}
)


@router.get("/admin/")
async def admin_home() -> Response:
    return page_response("admin/index.html")


@router.get("/admin/{section}/")
async def admin_section(section: str) -> Response:
    if section not in ADMIN_SECTIONS:
        raise NotFound(f"There is no administration page /admin/{section}/.")
    return page_response("admin/index.html")


@router.get("/admin")
async def admin_home_slash() -> Response:
    return RedirectResponse(url="/admin/", status_code=308)


# Account pages: sign-up and emailed links are public (their scripts call public endpoints); the
# account settings page signs in like any other.
ACCOUNT_PAGES = {
    "signup": "signup.html",
    "verify": "verify.html",
    "forgot": "forgot.html",
    "reset": "reset.html",
}


@router.get("/account/")
async def account_settings() -> Response:
    return page_response("account/index.html")


@router.get("/account/{page}")
async def account_page(page: str) -> Response:
    if page not in ACCOUNT_PAGES:
        raise NotFound(f"There is no account page /account/{page}.")
    return page_response(f"account/{ACCOUNT_PAGES[page]}")


@router.get("/oauth/consent/")
async def smart_consent() -> Response:
    return page_response("oauth/consent.html")


@router.get("/staff/dashboard/")
async def ward_dashboard() -> Response:
    return page_response("staff/dashboard.html")


@router.get("/staff/patient/")
async def patient_monitoring() -> Response:
    return page_response("staff/patient.html")


@router.get("/staff/observations/")
async def chart_observations() -> Response:
    return page_response("staff/observations.html")


@router.get("/staff/messages/")
async def staff_messages() -> Response:
    return page_response("staff/messages.html")


@router.get("/staff/dashboard")
async def ward_dashboard_slash() -> Response:
    return RedirectResponse(url="/staff/dashboard/", status_code=308)


@router.get("/portal")
async def patient_portal_slash() -> Response:
    return RedirectResponse(url="/portal/", status_code=308)


@router.get("/staff")
async def staff_home_slash() -> Response:
    return RedirectResponse(url="/staff/", status_code=308)


@router.get("/static/{asset:path}")
async def static_asset(asset: str) -> Response:
    suffix = Path(asset).suffix.lower()
    if suffix not in ASSET_TYPES:
        raise NotFound(f"There is no asset at /static/{asset}.")
    return FileResponse(
        _file(asset),
        media_type=ASSET_TYPES[suffix],
        headers={**SECURITY_HEADERS, "Cache-Control": ASSET_CACHE},
    )
