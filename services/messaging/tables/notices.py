"""The directory, the inbox and the email queue in the messaging schema, and the repositories
implementing their ports. Emails are queued in the transaction of the change that causes them;
the worker claims due ones across tenants (``MailQueueRepository``), each claim committed before
the send, each outcome logged in ``email_events``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.messaging.domain.directory import Person
from services.messaging.domain.email import EmailStatus, OutgoingEmail
from services.messaging.domain.notifications import Delivery
from services.messaging.domain.webhooks import DeliveryReport
from shared.platform.storage.uow import TenantScopedRepository


def notification_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    people = sa.Table(
        "people",
        metadata,
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("data", pg.JSONB, nullable=False),
        sa.Column("roles", pg.ARRAY(sa.Text), nullable=False),
    )
    inbox = sa.Table(
        "inbox_items",
        metadata,
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("item_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True)),
        sa.Index("ix_inbox_items_user", "tenant_id", "user_id", "created_at"),
    )
    emails = sa.Table(
        "emails",
        metadata,
        sa.Column("email_id", sa.Text, primary_key=True),  # the idempotency key
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("to_user", sa.Text, nullable=False),
        sa.Column("to_address", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False, server_default="notice"),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Index("ix_emails_due", "status", "next_attempt_at"),
    )
    events = sa.Table(
        "email_events",
        metadata,
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("email_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text),
        # A delivery report's id at the provider: a report posted twice is logged once.
        sa.Column("provider_event_id", sa.Text, unique=True),
        sa.Index("ix_email_events_email", "email_id", "id"),
    )
    # Addresses that bounced hard: nothing more is sent to them.
    suppressed = sa.Table(
        "suppressed_addresses",
        metadata,
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("address", sa.Text, primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    # The tokens of the delivery webhooks' signatures seen lately: a signed post is taken once.
    webhook_tokens = sa.Table(
        "webhook_tokens",
        metadata,
        sa.Column("token", sa.Text, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    return {
        "people": people,
        "inbox": inbox,
        "emails": emails,
        "events": events,
        "suppressed": suppressed,
        "webhook_tokens": webhook_tokens,
    }


class DirectoryRepository(TenantScopedRepository):
    """The tenant's people. Whether a person's address bounced is read from the suppressed
    addresses, never stored with the person (nor taken from a client's PUT)."""

    def __init__(self, connection: AsyncConnection, tenant_id: str, tables: dict[str, sa.Table]):
        super().__init__(connection, tenant_id)
        self.people, self.suppressed = tables["people"], tables["suppressed"]

    async def put(self, person: Person) -> None:
        data = person.model_dump(mode="json", exclude={"bounced"})
        values = {"data": data, "roles": list(person.roles)}
        await self.connection.execute(
            pg_insert(self.people)
            .values(tenant_id=self.tenant_id, user_id=person.user_id, **values)
            .on_conflict_do_update(
                index_elements=[self.people.c.tenant_id, self.people.c.user_id], set_=values
            )
        )

    async def all(self) -> list[Person]:
        return await self._people(sa.true())

    async def some(self, user_ids: Sequence[str]) -> list[Person]:
        return await self._people(self.people.c.user_id.in_(list(user_ids)))

    async def with_role(self, role: str) -> list[Person]:
        return await self._people(sa.literal(role) == sa.any_(self.people.c.roles))

    async def _people(self, where: sa.ColumnElement[bool]) -> list[Person]:
        people, suppressed = self.people, self.suppressed
        bounced = (
            sa.exists()
            .where(
                suppressed.c.tenant_id == people.c.tenant_id,
                suppressed.c.address == sa.func.lower(people.c.data["email"].astext),
            )
            .label("bounced")
        )
        query = self.scoped(people, people.c.data, bounced).where(where).order_by(people.c.user_id)
        return [
            Person.model_validate({**row.data, "bounced": row.bounced})
            for row in await self.connection.execute(query)
        ]


class NoticeRepository(TenantScopedRepository):
    """Inbox items and queued emails of one tenant (written with the change causing them)."""

    def __init__(self, connection: AsyncConnection, tenant_id: str, tables: dict[str, sa.Table]):
        super().__init__(connection, tenant_id)
        self.inbox, self.emails, self.events = tables["inbox"], tables["emails"], tables["events"]
        self.suppressed = tables["suppressed"]

    async def deliver(self, delivery: Delivery, now: datetime) -> bool:
        """The inbox item and its email, once: False if this delivery was made before."""
        added = await self.connection.execute(
            pg_insert(self.inbox)
            .values(
                tenant_id=self.tenant_id,
                item_id=delivery.item_id,
                user_id=delivery.user_id,
                title=delivery.title,
                body=delivery.body,
                rule=delivery.rule,
                created_at=now,
            )
            .on_conflict_do_nothing()
        )
        if added.rowcount != 1:
            return False
        if delivery.email is not None:
            await self.queue(delivery.email, send_at=delivery.send_after, now=now)
        return True

    async def queue(self, email: OutgoingEmail, *, send_at: datetime, now: datetime) -> bool:
        """Queue the email once (its id is the idempotency key): False if it was queued before.
        To an address that bounced hard it is kept, failed at once, never sent."""
        if email.tenant_id != self.tenant_id:
            raise ValueError(f"an email of tenant {email.tenant_id} queued in {self.tenant_id}")
        s = self.suppressed
        bounced = (
            await self.connection.execute(
                self.scoped(s, s.c.reason).where(s.c.address == email.to_address.lower())
            )
        ).scalar_one_or_none()
        added = await self.connection.execute(
            pg_insert(self.emails)
            .values(
                **email.model_dump(),
                status="failed" if bounced else "queued",
                next_attempt_at=send_at,
                last_error=bounced,
            )
            .on_conflict_do_nothing()
        )
        if added.rowcount != 1:
            return False
        await log_email(self.connection, self.events, email.email_id, "queued", now)
        if bounced:
            await log_email(self.connection, self.events, email.email_id, "failed", now, bounced)
        return True

    async def read_item(self, user_id: str, item_id: str, at: datetime) -> bool:
        """Mark the user's inbox item read (the first time counts); False: no such item."""
        inbox = self.inbox
        found = await self.connection.execute(
            sa.update(inbox)
            .where(
                inbox.c.tenant_id == self.tenant_id,
                inbox.c.user_id == user_id,
                inbox.c.item_id == item_id,
            )
            .values(read_at=sa.func.coalesce(inbox.c.read_at, at))
        )
        return found.rowcount == 1

    async def requeue(self, email_id: str, at: datetime, by: str) -> EmailStatus | None:
        """Queue again an email held in doubt or failed (an operator's decision: it may go
        twice); None if the tenant has no such email, else its status after."""
        emails, s = self.emails, self.suppressed
        bounced = sa.exists().where(
            s.c.tenant_id == emails.c.tenant_id, s.c.address == sa.func.lower(emails.c.to_address)
        )
        changed = await self.connection.execute(
            sa.update(emails)
            .where(
                emails.c.tenant_id == self.tenant_id,
                emails.c.email_id == email_id,
                emails.c.status.in_(("in_doubt", "failed")),
                ~bounced,
            )
            .values(status="queued", next_attempt_at=at, attempts=0, last_error=None)
        )
        if changed.rowcount:
            await log_email(self.connection, self.events, email_id, "queued", at, f"again, by {by}")
        status = await self.connection.execute(
            self.scoped(emails, emails.c.status).where(emails.c.email_id == email_id)
        )
        return status.scalar_one_or_none()

    async def inbox_of(self, user_id: str, *, unread_only: bool) -> list[dict[str, Any]]:
        query = self.scoped(self.inbox).where(self.inbox.c.user_id == user_id)
        if unread_only:
            query = query.where(self.inbox.c.read_at.is_(None))
        query = query.order_by(self.inbox.c.created_at.desc())
        return [dict(row._mapping) for row in await self.connection.execute(query)]

    async def email_log(self, email_id: str) -> list[tuple[EmailStatus, datetime, str | None]]:
        emails, events = self.emails, self.events
        query = (
            sa.select(events.c.status, events.c.at, events.c.detail)
            .join(emails, emails.c.email_id == events.c.email_id)
            .where(emails.c.tenant_id == self.tenant_id, events.c.email_id == email_id)
            .order_by(events.c.id)
        )
        return [(row.status, row.at, row.detail) for row in await self.connection.execute(query)]


async def log_email(
    connection: AsyncConnection,
    events: sa.Table,
    email_id: str,
    status: EmailStatus | str,
    at: datetime,
    detail: str | None = None,
) -> None:
    await connection.execute(
        sa.insert(events).values(email_id=email_id, status=status, at=at, detail=detail)
    )


class MailQueueRepository:
    """The worker's view of the queue, across tenants."""

    def __init__(self, connection: AsyncConnection, tables: dict[str, sa.Table]) -> None:
        self.connection = connection
        self.emails, self.events = tables["emails"], tables["events"]
        self.people, self.suppressed = tables["people"], tables["suppressed"]
        self.webhook_tokens = tables["webhook_tokens"]

    async def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[OutgoingEmail]:
        """Due emails, marked ``sending`` until ``now + lease`` (their attempt counted): commit
        before sending, so a crash mid-send leaves them visibly in flight."""
        emails = self.emails
        due = (
            sa.select(emails.c.email_id)
            .where(emails.c.status == "queued", emails.c.next_attempt_at <= now)
            .order_by(emails.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = await self.connection.execute(
            sa.update(emails)
            .where(emails.c.email_id.in_(due.scalar_subquery()))
            .values(status="sending", lease_until=now + lease, attempts=emails.c.attempts + 1)
            .returning(
                emails.c.email_id,
                emails.c.tenant_id,
                emails.c.to_user,
                emails.c.to_address,
                emails.c.subject,
                emails.c.body,
                emails.c.kind,
            )
        )
        claimed = [OutgoingEmail.model_validate(dict(row._mapping)) for row in rows]
        for email in claimed:
            await log_email(self.connection, self.events, email.email_id, "sending", now)
        return claimed

    async def attempts(self, email_id: str) -> int:
        query = sa.select(self.emails.c.attempts).where(self.emails.c.email_id == email_id)
        return int((await self.connection.execute(query)).scalar_one())

    async def settle(
        self,
        email_id: str,
        status: EmailStatus,
        now: datetime,
        *,
        next_attempt_at: datetime | None = None,
        detail: str | None = None,
    ) -> None:
        """The outcome of a send, if the email is still this send's (``sending``)."""
        values: dict[str, Any] = {"status": status, "lease_until": None, "last_error": detail}
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        result = await self.connection.execute(
            sa.update(self.emails)
            .where(self.emails.c.email_id == email_id, self.emails.c.status == "sending")
            .values(**values)
        )
        if result.rowcount:
            logged = "deferred" if status == "queued" else status
            await log_email(self.connection, self.events, email_id, logged, now, detail)

    async def hold_cut_off(self, now: datetime) -> list[str]:
        """Emails still ``sending`` past their lease: the send was cut off (a crash) after the
        server may have accepted it; held ``in_doubt``, never sent again by themselves."""
        rows = await self.connection.execute(
            sa.update(self.emails)
            .where(self.emails.c.status == "sending", self.emails.c.lease_until < now)
            .values(status="in_doubt", lease_until=None)
            .returning(self.emails.c.email_id)
        )
        held = list(rows.scalars())
        for email_id in held:
            await log_email(self.connection, self.events, email_id, "in_doubt", now)
        return held

    async def first_use(self, token: str, at: datetime, forget_before: datetime) -> bool:
        """Record a webhook signature's token: False if it was used before (a replayed post).
        Tokens older than ``forget_before`` are dropped: their posts are refused as stale."""
        tokens = self.webhook_tokens
        await self.connection.execute(sa.delete(tokens).where(tokens.c.at < forget_before))
        added = await self.connection.execute(
            pg_insert(tokens).values(token=token, at=at).on_conflict_do_nothing()
        )
        return added.rowcount == 1

    async def report(self, report: DeliveryReport) -> OutgoingEmail | None:
        """Log a provider's report (delivered, deferred, bounced, opened) on its email, once per
        provider event; a bounce marks the email bounced. None: not one of our emails, or this
        report was logged before."""
        email = await self._email(report.email_id)
        if email is None:
            return None
        logged = await self.connection.execute(
            pg_insert(self.events)
            .values(
                email_id=report.email_id,
                status=report.kind,
                at=report.at,
                detail=report.detail,
                provider_event_id=report.provider_event_id,
            )
            .on_conflict_do_nothing()
        )
        if logged.rowcount != 1:
            return None
        if report.kind == "bounced":
            await self.connection.execute(
                sa.update(self.emails)
                .where(self.emails.c.email_id == report.email_id)
                .values(status="bounced", last_error=report.detail)
            )
        return email

    async def opened(self, email_id: str, at: datetime) -> bool:
        """The open pixel was fetched: logged the first time only."""
        events = self.events
        if await self._email(email_id) is None:
            return False
        seen = await self.connection.execute(
            sa.select(events.c.id).where(events.c.email_id == email_id, events.c.status == "opened")
        )
        if seen.first() is not None:
            return False
        await log_email(self.connection, events, email_id, "opened", at, "tracking pixel")
        return True

    async def suppress(self, tenant_id: str, address: str, reason: str, at: datetime) -> int:
        """A hard bounce: the address gets nothing more (the directory shows its people
        bounced). Fails the emails still queued to it; returns how many were stopped."""
        address = address.lower()
        await self.connection.execute(
            pg_insert(self.suppressed)
            .values(tenant_id=tenant_id, address=address, reason=reason, at=at)
            .on_conflict_do_nothing()
        )
        emails = self.emails
        stopped = await self.connection.execute(
            sa.update(emails)
            .where(
                emails.c.tenant_id == tenant_id,
                sa.func.lower(emails.c.to_address) == address,
                emails.c.status == "queued",
            )
            .values(status="failed", last_error=reason)
            .returning(emails.c.email_id)
        )
        ids = list(stopped.scalars())
        for email_id in ids:
            await log_email(self.connection, self.events, email_id, "failed", at, reason)
        return len(ids)

    async def counts(self) -> dict[str, int]:
        """Emails by state, across tenants (a metric)."""
        emails = self.emails
        rows = await self.connection.execute(
            sa.select(emails.c.status, sa.func.count()).group_by(emails.c.status)
        )
        return {status: int(count) for status, count in rows}

    async def _email(self, email_id: str) -> OutgoingEmail | None:
        e = self.emails
        row = (
            await self.connection.execute(
                sa.select(
                    e.c.email_id,
                    e.c.tenant_id,
                    e.c.to_user,
                    e.c.to_address,
                    e.c.subject,
                    e.c.body,
                    e.c.kind,
                ).where(e.c.email_id == email_id)
            )
        ).first()
        return OutgoingEmail.model_validate(dict(row._mapping)) if row else None
