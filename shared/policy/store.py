"""What a deciding service stores: the decision log and the deadlines of ``schedule`` outcomes.

Both tables live in the deciding service's schema and are written in the same unit of work as
the command or event that asked for the decision, so a decision is logged (and published as
``policy.decision_made.v1``) exactly when its effects commit. Deadlines are rows, fired by the
``DeadlineSweeper`` (no in-memory timers): a deadline survives restarts and is fired once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import holidays
import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter
from pydantic import BaseModel
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared.contracts.policy import (
    MatchedRuleSummary,
    PolicyDeadlinePassed,
    PolicyDecisionMade,
    PolicyVersionSummary,
)
from shared.platform.storage.uow import UnitOfWork, UnitOfWorkFactory
from shared.policy.decision import Decision

log = logging.getLogger(__name__)


def decisions_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "policy_decisions",
        metadata,
        sa.Column("decision_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column(
            "decided_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("decision_point", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("facts", pg.JSONB, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("matched", pg.JSONB, nullable=False),
        sa.Column("policies", pg.JSONB, nullable=False),
        sa.Column("policy_hash", sa.Text, nullable=False),
        # What asked: a command ("POST /jobs/{id}/handoff") or an event ("event:<type>:<id>").
        sa.Column("source", sa.Text, nullable=False),
        sa.Index("ix_policy_decisions_time", "decided_at"),
        sa.Index("ix_policy_decisions_subject", "tenant_id", "subject"),
    )


def deadlines_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "policy_deadlines",
        metadata,
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("task", sa.Text, nullable=False),
        sa.Column("decision_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("escalate_to", sa.Text),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        # open -> met (done in time) | canceled | passed (the sweeper fired it) -> met_late
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        # One open deadline per task and subject: a second hand-off keeps the first deadline.
        sa.Index(
            "ux_policy_deadlines_open",
            "tenant_id",
            "subject",
            "task",
            unique=True,
            postgresql_where=sa.text("status = 'open'"),
        ),
        sa.Index("ix_policy_deadlines_due", "due_at", postgresql_where=sa.text("status = 'open'")),
    )


class PolicyTables:
    """The decision log and deadlines, bound to a deciding service's metadata."""

    def __init__(self, metadata: sa.MetaData) -> None:
        tables = metadata.tables
        self.decisions = (
            tables["policy_decisions"]
            if "policy_decisions" in tables
            else decisions_table(metadata)
        )
        self.deadlines = (
            tables["policy_deadlines"]
            if "policy_deadlines" in tables
            else deadlines_table(metadata)
        )


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in the decision log")


def facts_json(facts: BaseModel) -> dict[str, Any]:
    """The facts as stored and published: JSON values, decimals as strings (never floats)."""
    return json.loads(json.dumps(facts.model_dump(mode="python"), default=_json_default))


async def record_decision(
    uow: UnitOfWork,
    tables: PolicyTables,
    decision: Decision,
    facts: BaseModel,
    *,
    subject: str,
    source: str,
) -> None:
    """Log a live decision in ``uow``'s transaction and publish ``policy.decision_made.v1``."""
    stored_facts = facts_json(facts)
    matched = [dataclasses.asdict(rule) for rule in decision.matched]
    policies = [dataclasses.asdict(policy) for policy in decision.policies]
    await uow.connection.execute(
        sa.insert(tables.decisions).values(
            decision_id=decision.decision_id,
            tenant_id=decision.tenant,
            decision_point=decision.decision_point,
            subject=subject,
            facts=stored_facts,
            outcome=decision.outcome,
            matched=matched,
            policies=policies,
            policy_hash=decision.policy_hash,
            source=source,
        )
    )
    uow.record(
        PolicyDecisionMade(
            decision_id=str(decision.decision_id),
            decision_point=decision.decision_point,
            subject=subject,
            outcome=decision.outcome,
            matched=[
                MatchedRuleSummary(
                    policy=r.policy,
                    rule=r.rule,
                    outcome=r.outcome,
                    enforced=r.enforced,
                    reason=r.reason,
                    to=r.to,
                    only_when_allowed=r.only_when_allowed,
                )
                for r in decision.matched
            ],
            policies=[
                PolicyVersionSummary(
                    id=p.id, version=p.version, hash=p.hash, tenant_override=p.tenant_override
                )
                for p in decision.policies
            ],
            facts=stored_facts,
            source=source,
        ),
        subject=subject,
        tenant_id=decision.tenant,
    )


# -- business days and deadlines ------------------------------------------------------------------


class BusinessCalendar:
    """Business days per tenant: weekends and the public holidays of the tenant's country and
    state (``holidays``), e.g. ``US-TX``. Tenants without one use the default."""

    def __init__(self, default: str = "US", tenants: dict[str, str] | None = None) -> None:
        self.default = default
        self.tenants = dict(tenants or {})
        self._calendars: dict[str, holidays.HolidayBase] = {}

    def _for(self, tenant: str) -> holidays.HolidayBase:
        code = self.tenants.get(tenant, self.default)
        if code not in self._calendars:
            country, _, subdivision = code.partition("-")
            self._calendars[code] = holidays.country_holidays(country, subdiv=subdivision or None)
        return self._calendars[code]

    def add_business_days(self, tenant: str, start: datetime, days: int) -> datetime:
        """``days`` business days after ``start``, at the end of that day (UTC)."""
        due = self._for(tenant).get_nth_working_day(start.date(), days)
        return datetime.combine(due, time(23, 59, 59), tzinfo=UTC)


async def schedule_deadlines(
    uow: UnitOfWork,
    tables: PolicyTables,
    decision: Decision,
    *,
    subject: str,
    calendar: BusinessCalendar,
    now: datetime,
) -> list[datetime]:
    """Store a deadline for each enforced ``schedule`` outcome of ``decision`` (an open one for
    the same task and subject is kept). Returns the due times."""
    due_times = []
    deadlines = tables.deadlines
    for rule in decision.of("schedule"):
        due = calendar.add_business_days(decision.tenant, now, rule.within_business_days or 0)
        stored = (
            await uow.connection.execute(
                pg_insert(deadlines)
                .values(
                    tenant_id=decision.tenant,
                    subject=subject,
                    task=rule.task,
                    decision_id=decision.decision_id,
                    policy=rule.policy,
                    rule=rule.rule,
                    escalate_to=rule.escalate_to,
                    due_at=due,
                )
                .on_conflict_do_nothing()
                .returning(deadlines.c.due_at)
            )
        ).scalar_one_or_none()
        if stored is None:  # an open deadline for this task was kept: it is the one that counts
            stored = (
                await uow.connection.execute(
                    sa.select(deadlines.c.due_at).where(
                        deadlines.c.tenant_id == decision.tenant,
                        deadlines.c.subject == subject,
                        deadlines.c.task == rule.task,
                        deadlines.c.status == "open",
                    )
                )
            ).scalar_one()
        due_times.append(stored)
    return due_times


async def meet_deadline(
    uow: UnitOfWork,
    tables: PolicyTables,
    *,
    tenant: str,
    subject: str,
    task: str | None = None,
    status: str = "met",
) -> bool:
    """The work was done (or is no longer wanted: ``status="canceled"``): the subject's open
    deadlines (of ``task``, or all) will not fire. One that already fired is marked met late, so
    lists of overdue work drop it."""
    deadlines = tables.deadlines
    query = sa.update(deadlines).where(
        deadlines.c.tenant_id == tenant,
        deadlines.c.subject == subject,
        deadlines.c.status.in_(("open", "passed")),
    )
    if task is not None:
        query = query.where(deadlines.c.task == task)
    late = "met_late" if status == "met" else status
    result = await uow.connection.execute(
        query.values(
            status=sa.case((deadlines.c.status == "open", status), else_=late),
            closed_at=sa.func.now(),
        )
    )
    return result.rowcount > 0


class DeadlineMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.passed = Counter(
            "roofline_policy_deadlines_passed_total",
            "Deadlines that passed with their task undone (escalated).",
            ["policy", "rule", "escalate_to"],
            registry=registry,
        )


class DeadlineSweeper:
    """Fires deadlines that passed: marks them passed and publishes ``policy.deadline_passed.v1``
    (the escalation) in one transaction. Several service instances may sweep: ``SKIP LOCKED``
    hands each row to one of them."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        tables: PolicyTables,
        metrics: DeadlineMetrics | None = None,
        *,
        interval_s: float = 30.0,
        batch_size: int = 100,
    ) -> None:
        self.uow_factory = uow_factory
        self.tables = tables
        self.metrics = metrics
        self.interval_s = interval_s
        self.batch_size = batch_size

    async def sweep(self, now: datetime | None = None) -> int:
        """Fire every deadline due by ``now``; returns how many fired."""
        fired = 0
        while True:
            batch = await self._sweep_batch(now or datetime.now(UTC))
            fired += batch
            if batch < self.batch_size:
                return fired

    async def _sweep_batch(self, now: datetime) -> int:
        deadlines = self.tables.deadlines
        async with self.uow_factory() as uow:
            rows = (
                await uow.connection.execute(
                    sa.select(deadlines)
                    .where(deadlines.c.status == "open", deadlines.c.due_at <= now)
                    .order_by(deadlines.c.due_at)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                await uow.connection.execute(
                    sa.update(deadlines)
                    .where(deadlines.c.id == row.id)
                    .values(status="passed", closed_at=now)
                )
                uow.record(
                    PolicyDeadlinePassed(
                        deadline_id=row.id,
                        decision_id=str(row.decision_id),
                        policy=row.policy,
                        rule=row.rule,
                        subject=row.subject,
                        task=row.task,
                        due_at=row.due_at,
                        escalate_to=row.escalate_to,
                    ),
                    subject=row.subject,
                    tenant_id=row.tenant_id,
                )
            await uow.commit()
        for row in rows:
            log.warning(
                "deadline passed: %s for %s (rule %s/%s), escalated to %s",
                row.task,
                row.subject,
                row.policy,
                row.rule,
                row.escalate_to,
                extra={"tenant_id": row.tenant_id},
            )
            if self.metrics is not None:
                self.metrics.passed.labels(row.policy, row.rule, row.escalate_to or "").inc()
        return len(rows)

    async def run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # a database outage: try again next round
                log.exception("deadline sweep failed")
            await asyncio.sleep(self.interval_s)
