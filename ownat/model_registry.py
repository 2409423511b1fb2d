"""Every table of the platform, for Alembic and the tests.

Each domain keeps its tables in modules named `models` (`clinical/patients/models.py`, ...);
importing them all here registers them on the shared metadata without a list to maintain.
"""

from __future__ import annotations

import importlib
import pkgutil

import billing
import clinical
import core
import devices
import notifications
import realtime
from core.db import Base

DOMAIN_PACKAGES = (core, clinical, billing, devices, realtime, notifications)


def _import_model_modules() -> None:
    for package in DOMAIN_PACKAGES:
        for module in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            if module.name.rsplit(".", 1)[-1] == "models":
                importlib.import_module(module.name)


_import_model_modules()
metadata = Base.metadata
