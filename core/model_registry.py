"""Imports every package's models so that Alembic and the tests see the whole schema."""

from __future__ import annotations

from core.audit import models as audit_models  # noqa: F401
from core.db import Base
from core.identity import models as identity_models  # noqa: F401

metadata = Base.metadata
