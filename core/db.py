"""Database engines, sessions, and the declarative base and column types every package's models share.

PostgreSQL is the system of record; SQLite (aiosqlite) serves the embedded mode only.
Dialect differences in this module are limited to connection set-up.
"""

from __future__ import annotations

import enum
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from psycopg.pq import TransactionStatus
from sqlalchemy import DateTime, Enum, MetaData, Select, event
from sqlalchemy.engine import Connection, Dialect, ExecutionContext
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Explicit constraint names, so that migrations can refer to them on every dialect.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out; SQLite, which forgets the zone, gets it back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: pass a timezone-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def value_set_column(values: type[enum.StrEnum], name: str, length: int = 32) -> Enum:
    """A column holding one code of `values`, stored as its string and checked by a named constraint.

    Not a native enum, so that adding a code stays a small migration on every dialect; strings
    written to it are validated too, so a misspelt code fails before it reaches the database.
    """
    return Enum(
        values,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class PublicIdMixin:
    """Every record exposed to clients carries a random public UUID; internal keys stay private."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


def create_engine(url: str, *, begin_lazily: bool = False, **kwargs: Any) -> AsyncEngine:
    """An async engine configured for the dialect behind `url`.

    `begin_lazily` (PostgreSQL only): a unit of work that only reads runs without BEGIN and COMMIT
    (see `_begin_lazily`). Only for engines whose code sends no SQL past SQLAlchemy (a raw driver
    cursor, as the ingest worker's COPY, would run outside the unit of work's transaction)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine)
    if begin_lazily:
        _begin_lazily(engine)
    return engine


# A request that only reads needs no transaction, yet BEGIN and COMMIT are two of the four round
# trips of an audited read (BEGIN, the read, the audit entry, COMMIT). Under PostgreSQL's read
# committed, each statement sees a snapshot of its own inside a transaction as well, so a read
# outside one sees what it would have seen inside. With `begin_lazily`, the driver runs in
# autocommit and BEGIN is sent just before the first statement that is not a plain SELECT: a write,
# a locking read (FOR UPDATE), a server-side cursor, a CTE (it may hold a write), raw SQL, a
# savepoint. From there on the unit of work is one transaction, committed or rolled back as before;
# only the reads before it are outside it, which under read committed they could not rely on being.
# A statement marked `runs_alone` (the audit entries of a unit of work that wrote nothing) runs on
# its own when no transaction is open: one statement, committed by itself.
RUNS_ALONE = "ownat_runs_alone"


def _begin_lazily(engine: AsyncEngine) -> None:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.autocommit = True

    def before_cursor_execute(
        connection: Connection,
        _cursor: Any,
        _statement: str,
        _parameters: Any,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> None:
        fairy = connection.connection
        if fairy.driver_connection.info.transaction_status != TransactionStatus.IDLE:
            return  # already in the transaction
        if context is not None and _outside_a_transaction(context, executemany):
            return
        # A cursor of its own: the statement's may be a server-side one, which would DECLARE it.
        fairy.dbapi_connection.cursor().execute("BEGIN")

    event.listen(engine.sync_engine, "connect", on_connect)
    event.listen(engine.sync_engine, "before_cursor_execute", before_cursor_execute)


def _outside_a_transaction(context: Any, executemany: bool) -> bool:
    """Whether a statement may run while no transaction is open (see `_begin_lazily`)."""
    if context.execution_options.get(RUNS_ALONE):
        return True
    compiled = context.compiled
    streamed = context.execution_options.get("stream_results", False)  # a server-side cursor
    if compiled is None or executemany or streamed or compiled.ctes:
        return False
    statement = compiled.statement
    return isinstance(statement, Select) and statement._for_update_arg is None


# A pooled connection unused this long is pinged before it is handed out. SQLAlchemy's pre-ping
# pings every time: one more round trip to PostgreSQL for every request, a fifth of an audited
# read's. A connection in steady use has just proven itself; one that sat idle (through a database
# restart, a failover, a firewall's timeout) is the one to test. A dead connection found in use
# still fails only its own request: SQLAlchemy then discards every connection of the pool older
# than the error.
IDLE_PING_S = 10.0
_IDLE_SINCE = "ownat.idle_since"


def _ping_when_idle(engine: AsyncEngine) -> None:
    dialect = engine.sync_engine.dialect

    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_S:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool discards this connection and checks out another (a new one if need be).
            raise DisconnectionError("an idle pooled connection is gone") from error

    event.listen(engine.sync_engine, "checkin", on_checkin)
    event.listen(engine.sync_engine, "checkout", on_checkout)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own implicit transactions start only at the first write, so two sessions could
    # both read a head before either writes (the audit seals' head, for one); we take over
    # transaction control (see _begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    # SQLite has one writer; taking the write lock at BEGIN makes each embedded-mode transaction
    # serializable instead of failing half-way when two of them try to upgrade to writing.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
