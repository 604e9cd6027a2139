"""Threads, their participants, messages, reads and each user's live feed, in the messaging
schema; and the repositories implementing their ports.

A message's place in its thread (``seq``) and a feed event's place in its user's feed are taken
from a counter row updated in the writing transaction: the row lock orders concurrent writers
until they commit, so a reader never sees 7 before 6 has committed (a ``Last-Event-ID`` of 7
cannot skip a 6 that commits later)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.messaging.domain.threads import (
    Message,
    NewMessage,
    Participant,
    ParticipantRole,
    SeenBy,
    ThreadInfo,
    ThreadSummary,
)
from services.messaging.ports import FeedEvent, ReadRecord
from shared.platform.storage.uow import TenantScopedRepository


def thread_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    threads = sa.Table(
        "message_threads",
        metadata,
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("thread_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("subject_id", sa.Text),  # the job or ticket; None for a direct thread
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("opened_by", sa.Text, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_message_at", sa.DateTime(timezone=True)),
        # One thread per job and per ticket (a direct thread's subject is None: as many as wanted).
        sa.UniqueConstraint("tenant_id", "kind", "subject_id", name="uq_message_threads_subject"),
    )
    participants = sa.Table(
        "thread_participants",
        metadata,
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("thread_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("role", sa.Text, nullable=False),  # field | office
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("read_up_to", sa.Integer, nullable=False, server_default="0"),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_thread_participants_user", "tenant_id", "user_id"),
    )
    messages = sa.Table(
        "messages",
        metadata,
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("thread_id", sa.Text, primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.Text, nullable=False, unique=True),
        sa.Column("author_id", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("attachments", pg.JSONB, nullable=False),
        sa.Column("client_key", sa.Text),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "tenant_id", "thread_id", "author_id", "client_key", name="uq_messages_client_key"
        ),
    )
    reads = sa.Table(
        "message_reads",
        metadata,
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("thread_id", sa.Text, primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        # The reader's own clock, kept apart from the server's: validated, never trusted as it.
        sa.Column("client_read_at", sa.DateTime(timezone=True)),
    )
    feed = sa.Table(
        "user_feed",
        metadata,
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("data", pg.JSONB, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    counters = sa.Table(
        "user_feed_counters",
        metadata,
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
    )
    return {
        "threads": threads,
        "participants": participants,
        "messages": messages,
        "reads": reads,
        "feed": feed,
        "counters": counters,
    }


class ThreadRepository(TenantScopedRepository):
    def __init__(self, connection: AsyncConnection, tenant_id: str, tables: dict[str, sa.Table]):
        super().__init__(connection, tenant_id)
        self.threads, self.participants = tables["threads"], tables["participants"]
        self.messages, self.reads = tables["messages"], tables["reads"]

    # -- threads ---------------------------------------------------------------------------------

    async def open(self, thread: ThreadInfo, opened_by: str) -> bool:
        result = await self.connection.execute(
            pg_insert(self.threads)
            .values(tenant_id=self.tenant_id, opened_by=opened_by, **thread.model_dump())
            .on_conflict_do_nothing()
        )
        return result.rowcount == 1

    async def get(self, thread_id: str) -> ThreadInfo | None:
        query = self.scoped(self.threads).where(self.threads.c.thread_id == thread_id)
        row = (await self.connection.execute(query)).first()
        return ThreadInfo.model_validate(row._mapping) if row else None

    async def lock(self, thread_id: str) -> None:
        """Hold the thread's row until commit: posts to one thread take their turns."""
        t = self.threads
        await self.connection.execute(
            sa.select(t.c.thread_id)
            .where(t.c.tenant_id == self.tenant_id, t.c.thread_id == thread_id)
            .with_for_update()
        )

    async def of_subject(self, kind: str, subject_id: str) -> ThreadInfo | None:
        t = self.threads
        query = self.scoped(t).where(t.c.kind == kind, t.c.subject_id == subject_id)
        row = (await self.connection.execute(query)).first()
        return ThreadInfo.model_validate(row._mapping) if row else None

    # -- participants ----------------------------------------------------------------------------

    async def participant(self, thread_id: str, user_id: str) -> Participant | None:
        p = self.participants
        query = self.scoped(p).where(p.c.thread_id == thread_id, p.c.user_id == user_id)
        row = (await self.connection.execute(query)).first()
        return Participant.model_validate(row._mapping) if row else None

    async def participants_of(self, thread_id: str) -> list[Participant]:
        p = self.participants
        query = self.scoped(p).where(p.c.thread_id == thread_id).order_by(p.c.user_id)
        return [
            Participant.model_validate(r._mapping) for r in await self.connection.execute(query)
        ]

    async def join(
        self, thread_id: str, user_ids: Iterable[str], role: ParticipantRole, now: datetime
    ) -> list[str]:
        """Make them active participants; returns those who were not active before."""
        p = self.participants
        users = sorted(set(user_ids))
        if not users:
            return []
        before = await self.connection.execute(
            self.scoped(p, p.c.user_id).where(
                p.c.thread_id == thread_id, p.c.user_id.in_(users), p.c.active
            )
        )
        already = set(before.scalars())
        statement = pg_insert(p).values(
            [
                {
                    "tenant_id": self.tenant_id,
                    "thread_id": thread_id,
                    "user_id": user,
                    "role": role,
                    "active": True,
                    "joined_at": now,
                }
                for user in users
            ]
        )
        await self.connection.execute(
            statement.on_conflict_do_update(
                index_elements=[p.c.tenant_id, p.c.thread_id, p.c.user_id],
                set_={"active": True, "role": statement.excluded.role},
            )
        )
        return [user for user in users if user not in already]

    async def leave(self, thread_id: str, user_ids: Iterable[str]) -> None:
        """No longer assigned: they lose access; what they wrote and read stays."""
        users = list(user_ids)
        if users:
            p = self.participants
            await self.connection.execute(
                sa.update(p)
                .where(
                    p.c.tenant_id == self.tenant_id,
                    p.c.thread_id == thread_id,
                    p.c.user_id.in_(users),
                )
                .values(active=False)
            )

    # -- messages --------------------------------------------------------------------------------

    async def by_client_key(self, thread_id: str, author_id: str, key: str) -> Message | None:
        m = self.messages
        query = self.scoped(m).where(
            m.c.thread_id == thread_id, m.c.author_id == author_id, m.c.client_key == key
        )
        row = (await self.connection.execute(query)).first()
        return _message(row._mapping) if row else None

    async def post(
        self, thread_id: str, author_id: str, new: NewMessage, message_id: str, now: datetime
    ) -> Message:
        t, m = self.threads, self.messages
        seq = (
            await self.connection.execute(
                sa.update(t)
                .where(t.c.tenant_id == self.tenant_id, t.c.thread_id == thread_id)
                .values(last_seq=t.c.last_seq + 1, last_message_at=now)
                .returning(t.c.last_seq)
            )
        ).scalar_one()
        message = Message(
            thread_id=thread_id,
            seq=seq,
            message_id=message_id,
            author_id=author_id,
            body=new.body,
            attachments=new.attachments,
            posted_at=now,
        )
        values = message.model_dump(mode="json", exclude={"posted_at"})
        await self.connection.execute(
            sa.insert(m).values(
                tenant_id=self.tenant_id, client_key=new.client_key, posted_at=now, **values
            )
        )
        return message

    async def message(self, thread_id: str, seq: int) -> Message | None:
        m = self.messages
        query = self.scoped(m).where(m.c.thread_id == thread_id, m.c.seq == seq)
        row = (await self.connection.execute(query)).first()
        return _message(row._mapping) if row else None

    async def page(self, thread_id: str, *, before: int | None, limit: int) -> list[Message]:
        """The ``limit`` latest messages before ``before`` (all: None), oldest first."""
        m = self.messages
        query = self.scoped(m).where(m.c.thread_id == thread_id)
        if before is not None:
            query = query.where(m.c.seq < before)
        rows = await self.connection.execute(query.order_by(m.c.seq.desc()).limit(limit))
        return [_message(row._mapping) for row in reversed(rows.all())]

    # -- reads -----------------------------------------------------------------------------------

    async def mark_read(
        self,
        thread_id: str,
        user_id: str,
        up_to: int,
        read_at: datetime,
        client_read_at: datetime | None,
    ) -> list[ReadRecord]:
        """Record the read of every message by others after the reader's place, up to
        ``up_to``; move the place. Returns what was newly read (a repeat returns nothing)."""
        p, m, r = self.participants, self.messages, self.reads
        place = (
            await self.connection.execute(
                sa.select(p.c.read_up_to)
                .where(
                    p.c.tenant_id == self.tenant_id,
                    p.c.thread_id == thread_id,
                    p.c.user_id == user_id,
                )
                .with_for_update()
            )
        ).scalar_one()
        if up_to <= place:
            return []
        unread = (
            sa.select(
                m.c.tenant_id,
                m.c.thread_id,
                m.c.seq,
                sa.literal(user_id).label("user_id"),
                sa.literal(read_at, sa.DateTime(timezone=True)).label("read_at"),
                sa.literal(client_read_at, sa.DateTime(timezone=True)).label("client_read_at"),
            )
            .where(
                m.c.tenant_id == self.tenant_id,
                m.c.thread_id == thread_id,
                m.c.seq > place,
                m.c.seq <= up_to,
                m.c.author_id != user_id,
            )
            .order_by(m.c.seq)
        )
        inserted = await self.connection.execute(
            pg_insert(r)
            .from_select(
                ["tenant_id", "thread_id", "seq", "user_id", "read_at", "client_read_at"], unread
            )
            .on_conflict_do_nothing()
            .returning(r.c.seq)
        )
        seqs = sorted(inserted.scalars())
        await self.connection.execute(
            sa.update(p)
            .where(
                p.c.tenant_id == self.tenant_id,
                p.c.thread_id == thread_id,
                p.c.user_id == user_id,
            )
            .values(read_up_to=up_to)
        )
        if not seqs:
            return []
        authors = await self.connection.execute(
            self.scoped(m, m.c.seq, m.c.author_id)
            .where(m.c.thread_id == thread_id, m.c.seq.in_(seqs))
            .order_by(m.c.seq)
        )
        return [ReadRecord(seq=row.seq, author_id=row.author_id) for row in authors]

    async def seen_by(self, thread_id: str, seq: int) -> list[SeenBy]:
        r = self.reads
        query = (
            self.scoped(r, r.c.user_id, r.c.read_at, r.c.client_read_at)
            .where(r.c.thread_id == thread_id, r.c.seq == seq)
            .order_by(r.c.read_at, r.c.user_id)
        )
        return [SeenBy.model_validate(row._mapping) for row in await self.connection.execute(query)]

    async def threads_of(self, user_id: str) -> list[ThreadSummary]:
        """The threads the user is active on, latest activity first, with their unread count."""
        t, p, m = self.threads, self.participants, self.messages
        unread = (
            sa.select(sa.func.count())
            .where(
                m.c.tenant_id == t.c.tenant_id,
                m.c.thread_id == t.c.thread_id,
                m.c.seq > p.c.read_up_to,
                m.c.author_id != p.c.user_id,
            )
            .scalar_subquery()
        )
        query = (
            sa.select(t, unread.label("unread"))
            .join(p, sa.and_(p.c.tenant_id == t.c.tenant_id, p.c.thread_id == t.c.thread_id))
            .where(t.c.tenant_id == self.tenant_id, p.c.user_id == user_id, p.c.active)
            .order_by(t.c.last_message_at.desc().nulls_last(), t.c.thread_id)
        )
        return [
            ThreadSummary.model_validate(row._mapping)
            for row in await self.connection.execute(query)
        ]


def _message(row: Any) -> Message:
    return Message.model_validate(dict(row))


class FeedRepository(TenantScopedRepository):
    """Each user's live feed (new messages, read receipts, assignments), numbered per user."""

    def __init__(self, connection: AsyncConnection, tenant_id: str, tables: dict[str, sa.Table]):
        super().__init__(connection, tenant_id)
        self.feed, self.counters = tables["feed"], tables["counters"]

    async def push(
        self, user_ids: Sequence[str], kind: str, data: dict[str, Any], at: datetime
    ) -> None:
        users = sorted(set(user_ids))  # one lock order, so two pushes cannot deadlock
        if not users:
            return
        c = self.counters
        statement = pg_insert(c).values(
            [{"tenant_id": self.tenant_id, "user_id": user, "last_seq": 1} for user in users]
        )
        numbered = await self.connection.execute(
            statement.on_conflict_do_update(
                index_elements=[c.c.tenant_id, c.c.user_id], set_={"last_seq": c.c.last_seq + 1}
            ).returning(c.c.user_id, c.c.last_seq)
        )
        await self.connection.execute(
            sa.insert(self.feed),
            [
                {
                    "tenant_id": self.tenant_id,
                    "user_id": row.user_id,
                    "seq": row.last_seq,
                    "kind": kind,
                    "data": data,
                    "at": at,
                }
                for row in numbered
            ],
        )

    async def after(self, user_id: str, seq: int, limit: int) -> list[FeedEvent]:
        f = self.feed
        query = (
            self.scoped(f, f.c.seq, f.c.kind, f.c.data, f.c.at)
            .where(f.c.user_id == user_id, f.c.seq > seq)
            .order_by(f.c.seq)
            .limit(limit)
        )
        return [
            FeedEvent.model_validate(row._mapping) for row in await self.connection.execute(query)
        ]
