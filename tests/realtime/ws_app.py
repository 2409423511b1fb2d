"""Launcher for multi-instance tests: `python -m uvicorn --factory tests.realtime.ws_app:build`.

Settings come from `OWNAT_` environment variables, as for `ownat api`.
"""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app


def build() -> FastAPI:
    """The app, configured from the environment."""
    return create_app()
