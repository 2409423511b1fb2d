"""Migrations on the real PostgreSQL: up, down, up again, and agreement with the models."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from core.db import create_engine
from ownat import migrate
from ownat.model_registry import metadata


async def _table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade_and_models_agree(databases) -> None:
    url = databases.create("migrations")
    await asyncio.to_thread(migrate.upgrade, url)
    assert set(metadata.tables) <= await _table_names(url)

    await asyncio.to_thread(migrate.downgrade, url, "base")
    assert await _table_names(url) <= {"alembic_version"}

    await asyncio.to_thread(migrate.upgrade, url)
    assert await _differences(url) == []
