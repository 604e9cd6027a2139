"""Unit of work: one transaction for a handler's state changes and the events it records.

A handler never publishes. It records envelopes on the unit of work; ``commit()`` writes them to
the service's ``outbox`` table in the same transaction as the state change and NOTIFYs the relay.
Either both land or neither does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.contracts.base import EventData
from shared.platform.context import correlation_id_var
from shared.platform.messaging.envelope import Envelope, OutgoingEvent, encode_event
from shared.platform.settings import Settings
from shared.platform.storage.db import PlatformTables, checked_schema, notify_channel


class TenantRequired(Exception):
    """A repository was asked to work without a tenant: fail closed."""


class TenantScopedRepository:
    """Base of every repository: each query it builds is filtered by the caller's tenant."""

    def __init__(self, connection: AsyncConnection, tenant_id: str | None) -> None:
        if not tenant_id:
            raise TenantRequired("no tenant in scope; refusing to touch tenant data")
        self.connection = connection
        self.tenant_id = tenant_id

    def scoped(self, table: sa.Table, *columns: sa.ColumnElement) -> sa.Select:
        return sa.select(*(columns or (table,))).where(table.c.tenant_id == self.tenant_id)


class InsertOnceRepository(TenantScopedRepository):
    """A tenant's rows keyed by one column and written once: the usual shape of a projection
    kept from another service's events. Subclasses name the ``table`` and its ``key`` column,
    and give their port's typed methods over ``insert_once`` and ``row``."""

    table: ClassVar[sa.Table]
    key: ClassVar[str] = "job_id"

    async def insert_once(self, key: str, **values: Any) -> bool:
        """Insert the row; False if this tenant already has one for ``key`` (a replay)."""
        result = await self.connection.execute(
            pg_insert(self.table)
            .values(tenant_id=self.tenant_id, **{self.key: key}, **values)
            .on_conflict_do_nothing()
        )
        return result.rowcount == 1

    async def row(self, key: str) -> dict[str, Any] | None:
        row = (
            await self.connection.execute(
                self.scoped(self.table).where(self.table.c[self.key] == key)
            )
        ).one_or_none()
        return dict(row._mapping) if row else None


class UnitOfWork:
    def __init__(self, engine: AsyncEngine, tables: PlatformTables, settings: Settings) -> None:
        self._engine = engine
        self._tables = tables
        self._settings = settings
        self._connection: AsyncConnection | None = None
        self._pending: list[tuple[str, OutgoingEvent]] = []
        self._committed = False
        self._driver_in_transaction = False
        self._own_topic: str | None = None  # settings.own_topic, formatted once

    @property
    def connection(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._connection

    async def driver_connection(self) -> Any:
        """The asyncpg connection under this transaction, for set-based hot-path statements
        (SQLAlchemy's per-statement overhead is measurable at thousands of events a second)."""
        if not self._driver_in_transaction:
            # SQLAlchemy's asyncpg adapter opens the real transaction lazily, on the first
            # statement it runs; without this a driver-level statement would autocommit.
            await self.connection.exec_driver_sql("SELECT 1")
            self._driver_in_transaction = True
        raw = await self.connection.get_raw_connection()
        return raw.driver_connection

    async def __aenter__(self) -> Self:
        if self._connection is None:  # not opened ahead with open()
            await self._connect()
        return self

    async def open(self) -> Self:
        """Check out a connection and begin the transaction now, ahead of ``async with``: a
        consumer opens the next batch's while the previous batch commits, so the pool's
        liveness check and BEGIN are off the hot path."""
        await self._connect()
        try:
            await self.driver_connection()
        except BaseException:
            await self.close()
            raise
        return self

    async def _connect(self) -> None:
        self._connection = await self._engine.connect()
        await self._connection.begin()
        self._pending = []
        self._committed = False
        self._driver_in_transaction = False

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Roll back what was not committed and give the connection back to the pool."""
        try:
            if not self._committed:
                await self.rollback()
        finally:
            if self._connection is not None:
                await self._connection.close()
                self._connection = None

    def record(
        self,
        data: EventData,
        *,
        subject: str,
        tenant_id: str,
        sequence: int | None = None,
        cause: Envelope | None = None,
        topic: str | None = None,
    ) -> OutgoingEvent:
        """Record an event to be published when (and only if) this unit of work commits."""
        # Encoded now, so an oversized event fails the command, not the relay later.
        event = encode_event(
            data,
            source=self._settings.service,
            subject=subject,
            tenant_id=tenant_id,
            max_bytes=self._settings.max_message_bytes,
            sequence=sequence,
            correlation_id=(cause.correlation_id if cause else None) or correlation_id_var.get(),
            causation_id=str(cause.id) if cause else None,
        )
        if topic is None:
            topic = self._own_topic
            if topic is None:
                topic = self._own_topic = self._settings.own_topic
        self._pending.append((topic, event))
        return event

    async def commit(self) -> None:
        connection = self.connection
        if self._pending:
            driver = await self.driver_connection()
            await driver.execute(
                _outbox_insert(self._settings.schema_name),
                [event.id for _, event in self._pending],
                [topic for topic, _ in self._pending],
                [event.subject for _, event in self._pending],
                [event.type for _, event in self._pending],
                [event.tenant_id for _, event in self._pending],
                [event.body for _, event in self._pending],
                notify_channel(self._settings.schema_name),
            )
        await connection.commit()
        self._committed = True
        self._pending = []

    async def rollback(self) -> None:
        if self._connection is not None and self._connection.in_transaction():
            await self._connection.rollback()
        self._pending = []


def _outbox_insert(schema: str) -> str:
    """All of a commit's events in one statement of fixed shape (prepared once, however many
    rows), inserted in recording order so the identity column is the publication order.

    The same round trip NOTIFYs the relay (``$7`` is the channel): Postgres delivers it only when
    the transaction commits, and wakes the relay at once."""
    return (
        f'WITH written AS (INSERT INTO "{checked_schema(schema)}".outbox '
        "(event_id, topic, key, event_type, tenant_id, payload) "
        "SELECT e, t, k, ty, tn, p FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], "
        "$5::text[], $6::bytea[]) WITH ORDINALITY AS u(e, t, k, ty, tn, p, n) ORDER BY n) "
        "SELECT pg_notify($7::text, '')"
    )


class UnitOfWorkFactory:
    """What handlers receive: ``async with uow_factory() as uow``."""

    def __init__(self, engine: AsyncEngine, tables: PlatformTables, settings: Settings) -> None:
        self.engine = engine
        self.tables = tables
        self.settings = settings

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.engine, self.tables, self.settings)


R = TypeVar("R")
E = TypeVar("E")
# How a service builds its repositories on a transaction's connection, for one tenant.
Repositories = Callable[[AsyncConnection, str], R]


R_co = TypeVar("R_co", covariant=True)


class ServiceUnitOfWork(Protocol[R_co]):
    """The unit of work as a service's handlers use it (its ``ports.py`` names it with its
    repositories: ``JobsUnitOfWork = ServiceUnitOfWork[JobsRepositories]``); the SQL one is
    ``TenantUnitOfWork``, unit tests pass fakes."""

    tenant_id: str

    @property
    def repos(self) -> R_co: ...

    @property
    def transaction(self) -> Any:
        """What the policy layer writes its decision log through."""
        ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def record(
        self,
        data: EventData,
        *,
        subject: str,
        sequence: int | None = None,
        cause: Envelope | None = None,
    ) -> Any: ...
    async def commit(self) -> None: ...


def record_versioned(
    uow: ServiceUnitOfWork[Any], events: Sequence[EventData], *, subject: str, version: int
) -> None:
    """Record a change's events keyed by its aggregate, whose ``version`` counts its events: the
    n events of a change are its last n versions, their ``sequence`` (no gaps, in order)."""
    first = version - len(events) + 1
    for offset, event in enumerate(events):
        uow.record(event, subject=subject, sequence=first + offset)


class TenantUnitOfWork(Generic[R]):
    """A service's unit of work: one platform transaction, bound to one tenant, with the
    service's repositories (``repos``, of the type the service names) on its connection.

    HTTP commands open their own (``async with uows(tenant) as uow``) and commit it. A consumer's
    handler gets one *within* the consumer's transaction (``uows.handler``): the consumer opens it
    and commits it with the batch's inbox rows, so here ``commit()`` leaves that to it. Either
    way a handler sees the same object and records events the same way."""

    def __init__(
        self,
        transaction: UnitOfWork,
        tenant_id: str,
        repositories: Repositories[R],
        *,
        owned: bool = True,
    ) -> None:
        self.transaction = transaction
        self.tenant_id = tenant_id
        self._repositories = repositories
        self._owned = owned
        self._repos: R | None = None

    @property
    def repos(self) -> R:
        if self._repos is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._repos

    def _bind(self) -> Self:
        self._repos = self._repositories(self.transaction.connection, self.tenant_id)
        return self

    async def __aenter__(self) -> Self:
        if self._owned:
            await self.transaction.__aenter__()
        return self._bind()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._owned:
            await self.transaction.__aexit__(exc_type, exc, tb)

    def record(
        self,
        data: EventData,
        *,
        subject: str,
        sequence: int | None = None,
        cause: Envelope | None = None,
    ) -> OutgoingEvent:
        """Record an event of this tenant, published if (and only if) the transaction commits."""
        return self.transaction.record(
            data, subject=subject, tenant_id=self.tenant_id, sequence=sequence, cause=cause
        )

    async def commit(self) -> None:
        if self._owned:
            await self.transaction.commit()


class TenantUnitOfWorkFactory(Generic[R]):
    """What a service's composition root builds once and hands to its handlers:
    ``uows(tenant_id)`` for a command, ``uows.handler(fn)`` to register a consumer's handler."""

    def __init__(self, transactions: UnitOfWorkFactory, repositories: Repositories[R]) -> None:
        self.transactions = transactions
        self.repositories = repositories

    def __call__(self, tenant_id: str) -> TenantUnitOfWork[R]:
        return TenantUnitOfWork(self.transactions(), tenant_id, self.repositories)

    def within(self, transaction: UnitOfWork, tenant_id: str) -> TenantUnitOfWork[R]:
        """A unit of work inside a transaction someone else opened and commits."""
        return TenantUnitOfWork(transaction, tenant_id, self.repositories, owned=False)._bind()

    def handler(
        self, handle: Callable[[TenantUnitOfWork[R], Envelope, E], Awaitable[None]]
    ) -> Callable[[UnitOfWork, Envelope, E], Awaitable[None]]:
        """A consumer handler given this service's unit of work for the event's tenant."""

        async def within_consumer(transaction: UnitOfWork, envelope: Envelope, event: E) -> None:
            await handle(self.within(transaction, envelope.tenant_id), envelope, event)

        within_consumer.__name__ = getattr(handle, "__name__", "handler")
        return within_consumer

    def batch_handler(
        self, handle: Callable[[TenantUnitOfWork[R], list[tuple[Envelope, Any]]], Awaitable[None]]
    ) -> Callable[[UnitOfWork, list[tuple[Envelope, Any]]], Awaitable[None]]:
        """A consumer batch handler given this service's unit of work for the run's tenant (a
        run is of one tenant)."""

        async def within_consumer(
            transaction: UnitOfWork, events: list[tuple[Envelope, Any]]
        ) -> None:
            await handle(self.within(transaction, events[0][0].tenant_id), events)

        within_consumer.__name__ = getattr(handle, "__name__", "batch_handler")
        return within_consumer
