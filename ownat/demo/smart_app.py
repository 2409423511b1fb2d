"""The demo's SMART app: a public app served by `ownat dev` itself at `/dev/smart-app/`, registered
so that a newcomer can try a standalone launch (from that page) or an EHR launch (a chart's
"Open Ownat demo app" button) in minutes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.identity import ClientType, SmartApp

DEMO_CLIENT_ID = "ownat-demo-app"
DEMO_APP_NAME = "Ownat demo app"
DEMO_APP_PATH = "/dev/smart-app/"
DEMO_SCOPES = "launch launch/patient openid fhirUser offline_access patient/*.rs user/*.rs"


def demo_origins(host: str, port: int) -> list[str]:
    """The addresses a browser may reach `ownat dev` at (the banner names localhost)."""
    names = ["localhost", "127.0.0.1"] if host in ("127.0.0.1", "0.0.0.0", "localhost") else [host]  # noqa: S104
    return [f"http://{name}:{port}" for name in names]


async def ensure_demo_smart_app(session: AsyncSession, *, origins: list[str]) -> SmartApp:
    """The demo app, registered on first start, returning to every address in `origins`."""
    app = await session.scalar(select(SmartApp).where(SmartApp.client_id == DEMO_CLIENT_ID))
    redirects = [f"{origin}{DEMO_APP_PATH}" for origin in origins]
    if app is None:
        app = SmartApp(
            client_id=DEMO_CLIENT_ID,
            name=DEMO_APP_NAME,
            client_type=ClientType.PUBLIC,
            redirect_uris=redirects,
            scopes=DEMO_SCOPES,
            launch_url=f"{origins[0]}{DEMO_APP_PATH}",
            is_active=True,
        )
        session.add(app)
        await session.flush()
        audit.record(
            session,
            actor=None,
            action="smart.app.register",
            resource_type="smart_app",
            resource_id=app.id,
            detail={"client_id": DEMO_CLIENT_ID, "name": DEMO_APP_NAME, "scopes": DEMO_SCOPES},
        )
    elif not set(redirects) <= set(app.redirect_uris):
        # `ownat dev --port` moved: the app also returns to the new address.
        app.redirect_uris = list(dict.fromkeys([*app.redirect_uris, *redirects]))
        app.launch_url = f"{origins[0]}{DEMO_APP_PATH}"
        await session.flush()
    return app
