"""Operator commands that run against the configured database from a shell on the host."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.audit import AuditKeyring, Checkpoint
from core.db import create_engine
from core.sessions import create_sessionmaker, transaction
from core.settings import load_settings

T = TypeVar("T")


def verify_audit_chain(checkpoint_file: Path | None = None) -> int:
    """Prints the chain report as JSON; exit status 1 when something does not verify, 2 for a bad file."""
    checkpoint = None
    if checkpoint_file is not None:
        try:
            checkpoint = Checkpoint.model_validate_json(checkpoint_file.read_bytes())
        except (OSError, ValidationError) as error:
            print(f"cannot read the checkpoint {checkpoint_file}: {error}", file=sys.stderr)
            return 2
    report = _run_audited(
        lambda session, keys: audit.check_log(session=session, actor=None, keys=keys, checkpoint=checkpoint)
    )
    print(json.dumps(dataclasses.asdict(report), indent=2, default=str))
    return 0 if report.ok else 1


def export_audit_checkpoint(out: Path | None) -> int:
    """Writes a signed checkpoint of the chain's head to `out` (or prints it)."""
    checkpoint = _run_audited(
        lambda session, keys: audit.export_checkpoint(session=session, actor=None, keys=keys)
    )
    document = checkpoint.model_dump_json(indent=2) + "\n"
    if out is None:
        print(document, end="")
    else:
        out.write_text(document)
        print(f"checkpoint of seal {checkpoint.sequence} ({checkpoint.entries} entries) written to {out}")
    return 0


def _run_audited(operation: Callable[[AsyncSession, AuditKeyring], Awaitable[T]]) -> T:
    """Runs `operation` in one unit of work on the configured database, with the configured keys."""

    async def run() -> T:
        settings = load_settings()
        keys = AuditKeyring.from_settings(settings)
        engine = create_engine(settings.effective_database_url)
        try:
            async with transaction(create_sessionmaker(engine, audit_keys=keys)) as session:
                return await operation(session, keys)
        finally:
            await engine.dispose()

    return asyncio.run(run())
