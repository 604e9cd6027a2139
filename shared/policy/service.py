"""The policy layer inside a service process: engine, hot reload, decision log, deadline sweeper.

``ServicePlatform(settings, metadata, decision_points=[...])`` builds one. Handlers use
``platform.policy.decide(uow, point, facts, tenant=..., subject=..., source=...)``: evaluate, log
the decision in the handler's transaction and publish it; when the action goes ahead,
``platform.policy.schedule(uow, decision, subject=...)`` stores its ``schedule`` deadlines in the
same transaction, and ``meet(...)`` marks one done.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from shared.platform.http.problems import PolicyDenied, Problem
from shared.platform.settings import Settings
from shared.platform.storage.uow import UnitOfWork, UnitOfWorkFactory
from shared.policy.decision import BLOCKING, Decision, combine
from shared.policy.engine import PolicyEngine, PolicyMetrics
from shared.policy.store import (
    BusinessCalendar,
    DeadlineMetrics,
    DeadlineSweeper,
    PolicyTables,
    meet_deadline,
    record_decision,
    schedule_deadlines,
)


class PolicyRefused(Exception):
    """A decision did not let the command go ahead. Not an HTTP error: the policy engine knows
    no HTTP. The platform answers it as the ``policy-denied`` problem (409) in every service that
    asks the policy layer;
    ``extensions`` (every rule that refused it with its reason, every missing item, the
    strongest outcome, the decision's id) go into the problem's body."""

    def __init__(self, decision: Decision) -> None:
        blocking = [rule for rule in decision.enforced if rule.outcome in BLOCKING]
        super().__init__(" ".join(rule.reason for rule in blocking))
        self.decision = decision
        self.extensions = {
            # The strongest outcome that stopped it (an escalate may outrank a require).
            "outcome": combine([rule.outcome for rule in blocking]),
            "decision_id": str(decision.decision_id),
            "rules": [
                {"policy": r.policy, "rule": r.rule, "outcome": r.outcome, "reason": r.reason}
                for r in blocking
            ],
            "missing": decision.missing,
        }


# How a service that asks the policy layer answers its refusals over HTTP (the platform mounts
# this for every such service): 409 policy-denied, the body from the refusal's extensions.
POLICY_ERRORS: dict[type[Exception], type[Problem]] = {PolicyRefused: PolicyDenied}


class PolicyLayer:
    """Given what it needs (never the service wiring): the service's settings, its table
    metadata (for the decision log and deadlines), its metrics registry and its units of work."""

    def __init__(
        self,
        settings: Settings,
        metadata: sa.MetaData,
        registry: CollectorRegistry,
        uow_factory: UnitOfWorkFactory,
        decision_points: tuple[str, ...],
    ) -> None:
        self.settings = settings
        self.decision_points = decision_points
        self.tables = PolicyTables(metadata)
        self.engine = PolicyEngine(
            settings.policy_dir, metrics=PolicyMetrics(registry), required=decision_points
        )
        self.calendar = BusinessCalendar(settings.calendar, settings.tenant_calendars)
        self.sweeper = DeadlineSweeper(
            uow_factory,
            self.tables,
            DeadlineMetrics(registry),
            interval_s=settings.deadline_sweep_interval_s,
        )
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Load the rules (a service with a decision point and no valid rules for it starts, but
        is not ready), then watch the directory and sweep deadlines."""
        self.engine.load()
        service = self.settings.service
        self._tasks = [
            asyncio.create_task(
                self.engine.watch(self.settings.policy_reload_interval_s),
                name=f"policy-watch-{service}",
            ),
            asyncio.create_task(self.sweeper.run(), name=f"deadline-sweeper-{service}"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self.engine.close()

    async def policies_loaded(self) -> str | None:
        """Readiness check: every decision point of this service has valid rules."""
        missing = self.engine.missing()
        if not missing:
            return None
        return f"no valid policy for {', '.join(missing)} (see the log / roofline policy lint)"

    async def decide(
        self,
        uow: UnitOfWork,
        decision_point: str,
        facts: BaseModel,
        *,
        tenant: str,
        subject: str,
        source: str,
    ) -> Decision:
        """Evaluate, and log the decision in ``uow`` (published when it commits). Commit ``uow``
        whether or not the action goes ahead: a refusal is a decision worth keeping too."""
        decision = self.engine.evaluate(decision_point, facts, tenant)
        await record_decision(uow, self.tables, decision, facts, subject=subject, source=source)
        return decision

    def evaluate(self, decision_point: str, facts: BaseModel, *, tenant: str) -> Decision:
        """What ``decide`` would answer, without logging it: for a watcher that logs (and so
        notifies) only when the answer changes."""
        return self.engine.evaluate(decision_point, facts, tenant)

    def params(self, decision_point: str, tenant: str) -> dict[str, Any]:
        """The params of the point's policy sets with ``tenant``'s overrides (tables)."""
        return self.engine.params(decision_point, tenant)

    def business_days_after(self, tenant: str, start: datetime, days: int) -> datetime:
        """``days`` business days after ``start`` on the tenant's calendar, at ``start``'s time
        of day (a survey sent two days after a 3 pm completion goes at 3 pm); 0 is ``start``
        itself, whatever the day."""
        if days <= 0:
            return start
        due = self.calendar.add_business_days(tenant, start, days)
        return datetime.combine(due.date(), start.timetz())

    async def schedule(
        self, uow: UnitOfWork, decision: Decision, *, subject: str, now: datetime | None = None
    ) -> list[datetime]:
        """Store the deadlines of the decision's ``schedule`` outcomes (call it when the action
        goes ahead); returns their due times."""
        return await schedule_deadlines(
            uow,
            self.tables,
            decision,
            subject=subject,
            calendar=self.calendar,
            now=now or datetime.now(UTC),
        )

    async def meet(
        self,
        uow: UnitOfWork,
        *,
        tenant: str,
        subject: str,
        task: str | None = None,
        status: str = "met",
    ) -> bool:
        """The subject's deadlines (of ``task``, or all) were met, or are ``canceled``: they
        will not fire."""
        return await meet_deadline(
            uow, self.tables, tenant=tenant, subject=subject, task=task, status=status
        )
