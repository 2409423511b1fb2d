"""Operator commands that run against the configured database from a shell on the host."""

from __future__ import annotations

import dataclasses
import json

from core.audit.verify import verify_chain
from core.db import create_engine
from core.sessions import create_sessionmaker
from core.settings import load_settings


async def verify_audit_chain() -> int:
    """Prints the chain report as JSON; exit status 1 when a link is broken."""
    settings = load_settings()
    engine = create_engine(settings.effective_database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            report = await verify_chain(session)
    finally:
        await engine.dispose()
    print(json.dumps(dataclasses.asdict(report), indent=2))
    return 0 if report.ok else 1
