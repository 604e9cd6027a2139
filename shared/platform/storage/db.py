"""Database access: one async engine per service, its schema, and the platform tables.

Every service owns one Postgres schema. Tables are declared without a schema and the engine maps
them onto the service's schema (``schema_translate_map``), so the same table code serves a
service's own schema in production and a throw-away schema per test module.
"""

from __future__ import annotations

import errno
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from shared.platform.settings import Settings

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def checked_schema(name: str) -> str:
    """Schema names end up in DDL and NOTIFY channels: accept plain identifiers only."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"schema name {name!r} must be a lower-case SQL identifier")
    return name


def create_engine(settings: Settings, *, command_timeout: bool = True) -> AsyncEngine:
    """Async engine for ``settings.service``; ``pool_pre_ping`` survives a Postgres restart.
    Statements give up after ``db_command_timeout_s`` unless ``command_timeout`` is off (for
    migrations, which may rewrite large tables)."""
    schema = checked_schema(settings.schema_name)
    connect_args: dict[str, Any] = {
        # Plain-SQL statements (set-based hot paths) resolve unqualified names the same way.
        "server_settings": {"search_path": schema},
    }
    if command_timeout:
        connect_args["command_timeout"] = settings.db_command_timeout_s
    return create_async_engine(
        settings.database_url,
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        execution_options={"schema_translate_map": {None: schema}},
        connect_args=connect_args,
    )


def asyncpg_dsn(database_url: str) -> str:
    """The same URL for plain asyncpg (the relay's dedicated leader connection)."""
    return (
        sa.make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "outbox",
        metadata,
        # Order of publication. Per aggregate this is commit order, because a handler locks the
        # aggregate (row lock or version check) before it records events.
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        # Not unique-indexed: ids are fresh UUIDv7s, and consumers' inboxes dedupe. Every index
        # here costs each command and each consumed batch (measured in bench/bus.py).
        sa.Column("event_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("tenant_id", sa.Text, nullable=False),
        # The envelope as sent. The relay builds the Kafka headers from the columns above and
        # reads the other attributes (source, time, correlation, causation, sequence) from it:
        # columns for those cost each insert more than reading them costs the relay (measured).
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        # The relay's only hot query: unsent rows in id order. Purge (once a minute) and replay
        # (an operator's action) scan instead of paying an index on every insert.
        sa.Index("ix_outbox_unsent", "id", postgresql_where=sa.text("sent_at IS NULL")),
    )


def inbox_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "inbox",
        metadata,
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


class PlatformTables:
    """The outbox and inbox every service has, bound to the service's metadata."""

    def __init__(self, metadata: sa.MetaData) -> None:
        self.metadata = metadata
        # A service's metadata gets the tables once, however many platforms a process builds.
        tables = metadata.tables
        self.outbox = tables["outbox"] if "outbox" in tables else outbox_table(metadata)
        self.inbox = tables["inbox"] if "inbox" in tables else inbox_table(metadata)


async def create_schema(engine: AsyncEngine, schema: str, metadata: sa.MetaData) -> None:
    """Create the schema and tables if missing (tests and first start; Alembic owns changes).
    Replicas starting together take turns (a transaction-level advisory lock on the schema's
    name): PostgreSQL's IF NOT EXISTS does not stop two concurrent creations colliding."""
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:schema))"), {"schema": schema}
        )
        await conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{checked_schema(schema)}"'))
        await conn.run_sync(metadata.create_all)


async def drop_schema(engine: AsyncEngine, schema: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{checked_schema(schema)}" CASCADE'))


def notify_channel(schema: str) -> str:
    return f"{checked_schema(schema)}_outbox"


TRANSIENT_SQLSTATES = {
    "40001",
    "40P01",
    "57P01",
    "57P02",
    "57P03",
    "53300",
    "08000",
    "08003",
    "08006",
    "08001",
    "08004",
}


# OS-level errors that mean "the server or network is not there right now".
_TRANSIENT_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EPIPE,
    errno.ETIMEDOUT,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ENETDOWN,
}


CONFLICT_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock


def is_conflict(exc: BaseException) -> bool:
    """A serialization failure or deadlock: transient by nature, whatever else is going on."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        sqlstate = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if sqlstate in CONFLICT_SQLSTATES:
            return True
        current = current.__cause__
    return False


def is_transient(exc: BaseException) -> bool:
    """True for failures that go away by themselves: the database or network is down, a
    serialization conflict, a deadlock. Those are retried, never dead-lettered. Everything else
    (bad data, a bug, a refused tenant) is permanent, so a poison message is isolated and
    dead-lettered instead of stalling its partition. Follows explicit causes (``raise ... from``)
    only: an error raised while handling a timeout is not a timeout."""
    import asyncpg
    from sqlalchemy import exc as sa_exc

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (sa_exc.OperationalError, sa_exc.TimeoutError)):
            return True
        if isinstance(
            current,
            (
                ConnectionError,
                TimeoutError,
                asyncpg.exceptions.PostgresConnectionError,
                asyncpg.exceptions.ConnectionDoesNotExistError,
                asyncpg.exceptions.CannotConnectNowError,
            ),
        ):
            return True
        if isinstance(current, OSError) and (
            current.errno in _TRANSIENT_ERRNOS or "Connect call failed" in str(current)
        ):
            return True
        sqlstate = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if sqlstate in TRANSIENT_SQLSTATES:
            return True
        current = current.__cause__
    return False
