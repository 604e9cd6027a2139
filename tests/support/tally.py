"""A small service built on shared/, used by the platform tests and the bus benchmark.

``tally`` owns counters: ``increment`` bumps a counter's version under a row lock and records
``tally.incremented.v1`` with that version as the sequence. ``tallyview`` consumes those events into
a projection that counts how often each event was applied and whether sequences arrived in order,
and records ``tally.applied.v1`` through its own outbox (consume -> write -> outbox).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared.contracts.base import EventData, catalogued
from shared.contracts.roles import ROLES
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller
from shared.platform.http.problems import NotFound
from shared.platform.messaging.envelope import Envelope, OutgoingEvent, encode_event
from shared.platform.service import ServicePlatform
from shared.platform.settings import Settings
from shared.platform.storage.uow import TenantScopedRepository, UnitOfWork, UnitOfWorkFactory

POISON_AMOUNT = -999  # the projection handler refuses it: a non-transient handler failure


@catalogued("tally.incremented.v1")
class Incremented(EventData):
    counter_id: str
    amount: int
    seq: int


@catalogued("tally.applied.v1")
class Applied(EventData):
    counter_id: str
    seq: int


# -- tally (the producing side) ------------------------------------------------------------------

tally_metadata = sa.MetaData()
counters = sa.Table(
    "counters",
    tally_metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("counter_id", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("total", sa.BigInteger, nullable=False),
)


class Counters(TenantScopedRepository):
    async def bump(self, counter_id: str, amount: int) -> tuple[int, int]:
        """Increment under the row lock the upsert takes (held until commit): one writer per
        counter at a time, so versions and outbox order agree."""
        row = (
            await self.connection.execute(
                pg_insert(counters)
                .values(tenant_id=self.tenant_id, counter_id=counter_id, version=1, total=amount)
                .on_conflict_do_update(
                    index_elements=[counters.c.tenant_id, counters.c.counter_id],
                    set_={"version": counters.c.version + 1, "total": counters.c.total + amount},
                )
                .returning(counters.c.version, counters.c.total)
            )
        ).one()
        return int(row.version), int(row.total)

    async def get(self, counter_id: str) -> dict[str, Any] | None:
        row = (
            await self.connection.execute(
                self.scoped(counters).where(counters.c.counter_id == counter_id)
            )
        ).one_or_none()
        return dict(row._mapping) if row else None


async def increment(
    uow_factory: UnitOfWorkFactory, tenant_id: str, counter_id: str, amount: int
) -> OutgoingEvent:
    async with uow_factory() as uow:
        version, _ = await Counters(uow.connection, tenant_id).bump(counter_id, amount)
        envelope = uow.record(
            Incremented(counter_id=counter_id, amount=amount, seq=version),
            subject=counter_id,
            tenant_id=tenant_id,
            sequence=version,
        )
        await uow.commit()
    return envelope


def incremented(counter: str, seq: int, amount: int = 1, tenant: str = "acme") -> OutgoingEvent:
    """An event as the tally service would publish it, for tests that produce to Kafka directly."""
    return encode_event(
        Incremented(counter_id=counter, amount=amount, seq=seq),
        source="tally",
        subject=counter,
        tenant_id=tenant,
        sequence=seq,
        max_bytes=10_000_000,
    )


class IncrementBody(BaseModel):
    amount: int = Field(ge=1, le=1_000_000)


def tally_router(platform: ServicePlatform) -> APIRouter:
    router = GuardedRouter({"post_increment": ROLES, "get_counter": ROLES})

    @router.post("/counters/{counter_id}/increment", status_code=202)
    async def post_increment(
        counter_id: str, body: IncrementBody, caller: Caller = Depends(current_caller)
    ) -> dict[str, Any]:
        envelope = await increment(platform.uow_factory, caller.tenant_id, counter_id, body.amount)
        return {"event_id": str(envelope.id), "seq": envelope.sequence}

    @router.get("/counters/{counter_id}")
    async def get_counter(
        counter_id: str, caller: Caller = Depends(current_caller)
    ) -> dict[str, Any]:
        async with platform.engine.connect() as connection:
            row = await Counters(connection, caller.tenant_id).get(counter_id)
        if row is None:
            raise NotFound(f"counter {counter_id} not found")
        return row

    return router


def tally_platform(settings: Settings) -> ServicePlatform:
    return ServicePlatform(settings, tally_metadata)


# -- tallyview (the consuming side) ----------------------------------------------------------------

view_metadata = sa.MetaData()
projection = sa.Table(
    "projection",
    view_metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("counter_id", sa.Text, primary_key=True),
    sa.Column("total", sa.BigInteger, nullable=False),
    sa.Column("applied", sa.Integer, nullable=False),
    sa.Column("first_seq", sa.Integer, nullable=False),
    sa.Column("last_seq", sa.Integer, nullable=False),
    sa.Column("out_of_order", sa.Integer, nullable=False),
)


async def apply_increments(uow: UnitOfWork, events: list[tuple[Envelope, Incremented]]) -> None:
    """One upsert for the whole run (not one per event), one outbox row per event."""
    per_counter: dict[tuple[str, str], dict[str, int]] = {}
    for envelope, event in events:
        if event.amount == POISON_AMOUNT:
            raise ValueError(f"amount {POISON_AMOUNT} is refused by the projection")
        key = (envelope.tenant_id, event.counter_id)
        row = per_counter.get(key)
        if row is None:
            per_counter[key] = {
                "total": event.amount,
                "applied": 1,
                "first_seq": event.seq,
                "last_seq": event.seq,
                "out_of_order": 0,
            }
        else:
            row["out_of_order"] += int(event.seq != row["last_seq"] + 1)
            row.update(
                total=row["total"] + event.amount, applied=row["applied"] + 1, last_seq=event.seq
            )
        uow.record(
            Applied(counter_id=event.counter_id, seq=event.seq),
            subject=event.counter_id,
            tenant_id=envelope.tenant_id,
            cause=envelope,
        )
    # One statement for every counter in the run. On insert, out_of_order counts the run's own
    # gaps plus "did it start at 1"; on conflict the start is judged against the stored last_seq.
    rows = [
        (
            tenant,
            counter,
            row["total"],
            row["applied"],
            row["first_seq"],
            row["last_seq"],
            row["out_of_order"] + int(row["first_seq"] != 1),
        )
        for (tenant, counter), row in per_counter.items()
    ]
    columns = list(zip(*rows, strict=True))
    await uow.connection.execute(
        PROJECT_RUN,
        dict(
            zip(
                ("tenants", "counters", "totals", "applied", "firsts", "lasts", "gaps"),
                map(list, columns),
                strict=True,
            )
        ),
    )


PROJECT_RUN = sa.text(
    "INSERT INTO projection AS p "
    "(tenant_id, counter_id, total, applied, first_seq, last_seq, out_of_order) "
    "SELECT * FROM unnest(CAST(:tenants AS text[]), CAST(:counters AS text[]), "
    "CAST(:totals AS bigint[]), CAST(:applied AS int[]), CAST(:firsts AS int[]), "
    "CAST(:lasts AS int[]), CAST(:gaps AS int[])) "
    "ON CONFLICT (tenant_id, counter_id) DO UPDATE SET "
    "total = p.total + excluded.total, applied = p.applied + excluded.applied, "
    "last_seq = excluded.last_seq, "
    "out_of_order = p.out_of_order + excluded.out_of_order "
    "- (excluded.first_seq <> 1)::int + (p.last_seq + 1 <> excluded.first_seq)::int"
)


def view_platform(settings: Settings, source_topic: str) -> ServicePlatform:
    platform = ServicePlatform(settings, view_metadata)
    platform.consumer.on_batch(Incremented)(apply_increments)
    platform.consumer.subscribe(platform.broker, source_topic)
    return platform


async def projection_rows(platform: ServicePlatform) -> list[dict[str, Any]]:
    async with platform.engine.connect() as connection:
        rows = await connection.execute(sa.select(projection).order_by(projection.c.counter_id))
        return [dict(row._mapping) for row in rows]


async def projection_summary(platform: ServicePlatform) -> dict[str, int]:
    async with platform.engine.connect() as connection:
        row = (
            await connection.execute(
                sa.select(
                    sa.func.coalesce(sa.func.sum(projection.c.applied), 0).label("applied"),
                    sa.func.coalesce(sa.func.sum(projection.c.out_of_order), 0).label(
                        "out_of_order"
                    ),
                    sa.func.count().label("counters"),
                )
            )
        ).one()
        return {key: int(value) for key, value in row._mapping.items()}
