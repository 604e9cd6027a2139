"""Query pieces every service's repositories share: a literal text search over some columns,
and a per-tenant counter for human-readable numbers (job 2026-0042, ticket T-2026-0007)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection


def contains_text(text: str, *columns: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """Any of ``columns`` contains ``text``, case-insensitively; the text is matched literally
    (``%`` and ``_`` in it are not wildcards)."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return sa.or_(*(column.ilike(pattern, escape="\\") for column in columns))


def counter_table(name: str, metadata: sa.MetaData) -> sa.Table:
    """A table of one counter per tenant (``next_number``)."""
    return sa.Table(
        name,
        metadata,
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("last_number", sa.Integer, nullable=False),
    )


async def next_number(connection: AsyncConnection, counter: sa.Table, tenant_id: str) -> int:
    """The tenant's next number from ``counter``: 1, 2, ...; never repeated (the row lock the
    upsert takes orders concurrent callers until they commit)."""
    return int(
        (
            await connection.execute(
                pg_insert(counter)
                .values(tenant_id=tenant_id, last_number=1)
                .on_conflict_do_update(
                    index_elements=[counter.c.tenant_id],
                    set_={"last_number": counter.c.last_number + 1},
                )
                .returning(counter.c.last_number)
            )
        ).scalar_one()
    )
