"""The API docs page (`/api/v1/docs`): Swagger UI from an installed package, under the pages' CSP.

FastAPI's own docs page loads Swagger UI from a CDN with an inline script: code from elsewhere, unpinned,
running in the origin where the pages keep their tokens, and a page that stays blank offline. Here
the page is ours (`web/docs/`), its script a file, and Swagger UI's two files come from the
`fastapi-offline` package installed with the server (only its static files are used).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from api.pages import ASSET_CACHE, ASSET_TYPES, SECURITY_HEADERS, page_response
from core.errors import NotFound

SWAGGER_UI_DIR = Path(str(files("fastapi_offline") / "static"))
# The only files the page uses; nothing else of the package is reachable.
SWAGGER_UI_FILES = frozenset({"swagger-ui-bundle.js", "swagger-ui.css"})

router = APIRouter(include_in_schema=False)


@router.get("/api/v1/docs")
async def api_docs() -> Response:
    return page_response("docs/index.html")


@router.get("/api/v1/docs/swagger-ui/{name}")
async def swagger_ui_file(name: str) -> Response:
    if name not in SWAGGER_UI_FILES:
        raise NotFound(f"There is no Swagger UI file {name}.")
    return FileResponse(
        SWAGGER_UI_DIR / name,
        media_type=ASSET_TYPES[Path(name).suffix],
        headers={**SECURITY_HEADERS, "Cache-Control": ASSET_CACHE},
    )
