"""The inbox: which events a consumer has already applied (or set aside), in SQL.

Every consumed event id goes into the service's ``inbox`` table in the same transaction as its
effects, ``ON CONFLICT DO NOTHING``: a redelivered or re-published event changes nothing. The
statements go to the asyncpg driver connection under the unit of work's transaction, one
``unnest`` statement of fixed shape for a whole batch (prepared once, whatever its size): through
SQLAlchemy they cost about a third of the consumer's throughput. Records that could not be read
are remembered here too, under an id derived from where they sit in Kafka
(``dead_letter.record_id``), so that they are dead-lettered once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from shared.platform.messaging.parsing import Incoming
from shared.platform.storage.db import checked_schema
from shared.platform.storage.uow import UnitOfWork

# The inbox's event type for a record dead-lettered unread (its id comes from its coordinates).
REJECTED = "roofline.rejected"
# event_id, event_type, tenant_id, topic, partition, offset
InboxRow = tuple[uuid.UUID, str, str, str, int, int]


class Inbox:
    """One consumer's rows in its service's inbox table."""

    def __init__(self, schema: str, consumer: str) -> None:
        self.consumer = consumer
        schema = checked_schema(schema)
        # One row back, not one per event: how many were new and, only if that is not all of
        # them (a redelivery), which.
        self._insert = (
            f'WITH written AS (INSERT INTO "{schema}".inbox '
            '(consumer, event_id, event_type, tenant_id, topic, partition, "offset") '
            "SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], "
            "$6::int[], $7::bigint[]) ON CONFLICT DO NOTHING RETURNING event_id) "
            "SELECT count(*), CASE WHEN count(*) < cardinality($2::uuid[]) "
            "THEN array_agg(event_id) END FROM written"
        )
        self._lookup = (
            f'SELECT event_id FROM "{schema}".inbox '
            "WHERE consumer = $1 AND event_id = ANY($2::uuid[])"
        )

    async def record(self, uow: UnitOfWork, items: Sequence[Incoming]) -> list[Incoming]:
        """Record the events in the inbox; the ones not seen before, in order."""
        fresh = await self.remember(
            uow,
            [
                (
                    envelope.id,
                    envelope.type,
                    envelope.tenant_id,
                    record.topic,
                    record.partition,
                    record.offset,
                )
                for record, envelope, _ in items
            ],
        )
        if fresh is None:
            return list(items)  # the usual case: every event is new
        new_ids = set(fresh)
        applied = []
        for item in items:
            if item.envelope.id in new_ids:
                new_ids.discard(item.envelope.id)  # a second copy in a batch is a duplicate
                applied.append(item)
        return applied

    async def remember(self, uow: UnitOfWork, rows: Sequence[InboxRow]) -> list[Any] | None:
        """Insert inbox rows (one statement of column arrays, whatever the batch size, so it is
        prepared once); None if every row was new, else the ids that were not there yet."""
        driver = await uow.driver_connection()
        written, fresh = await driver.fetchrow(
            self._insert, self.consumer, *zip(*rows, strict=True)
        )
        return None if written == len(rows) else list(fresh or ())

    async def known(self, uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Which of ``ids`` this consumer has in its inbox already."""
        driver = await uow.driver_connection()
        return {row[0] for row in await driver.fetch(self._lookup, self.consumer, ids)}
