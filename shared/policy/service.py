"""The policy layer inside a service process: engine, hot reload, decision log, deadline sweeper.

``ServicePlatform(settings, metadata, decision_points=[...])`` builds one. Handlers use
``platform.policy.decide(uow, point, facts, tenant=..., subject=..., source=...)``: evaluate, log
the decision in the handler's transaction and publish it; ``schedule`` outcomes become deadlines
in the same transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel

from shared.policy.decision import Decision
from shared.policy.engine import PolicyEngine, PolicyMetrics
from shared.policy.store import (
    BusinessCalendar,
    DeadlineMetrics,
    DeadlineSweeper,
    PolicyTables,
    record_decision,
    schedule_deadlines,
)
from shared.uow import UnitOfWork

if TYPE_CHECKING:
    from shared.platform import ServicePlatform


class PolicyLayer:
    def __init__(self, platform: ServicePlatform, decision_points: tuple[str, ...]) -> None:
        settings = platform.settings
        self.settings = settings
        self.decision_points = decision_points
        self.tables = PolicyTables(platform.metadata)
        registry = platform.metrics.registry
        self.engine = PolicyEngine(
            settings.policy_dir, metrics=PolicyMetrics(registry), required=decision_points
        )
        self.calendar = BusinessCalendar(settings.calendar, settings.tenant_calendars)
        self.sweeper = DeadlineSweeper(
            platform.uow_factory,
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
        now: datetime | None = None,
    ) -> Decision:
        """Evaluate, and log the decision in ``uow`` (published when it commits). Deadlines of
        ``schedule`` outcomes are stored too, but only if the decision lets the action go ahead:
        the caller commits ``uow`` whether or not it acts, so a refusal is logged as well."""
        decision = self.engine.evaluate(decision_point, facts, tenant)
        await record_decision(uow, self.tables, decision, facts, subject=subject, source=source)
        if decision.allowed:
            await schedule_deadlines(
                uow,
                self.tables,
                decision,
                subject=subject,
                calendar=self.calendar,
                now=now or datetime.now(UTC),
            )
        return decision
