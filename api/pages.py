"""The web pages: static HTML shells that sign in and talk to the REST API (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
