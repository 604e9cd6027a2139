"""The policy layer for handler unit tests: decides with the real engine over the shipped rules,
but keeps its decision log, deadlines and their meeting in memory, kept only when the fake unit of
work commits (it calls ``log_decision``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

from shared.policy.decision import Decision
from shared.policy.engine import PolicyEngine

POLICIES = Path(__file__).resolve().parents[2] / "policies"


class DecisionLog(Protocol):
    def log_decision(self, decision: Decision) -> None: ...


class FakePolicy:
    """Decides with the real engine over the shipped rules; the decision log, the deadlines and
    their meeting live in memory and are kept only when the unit of work commits."""

    def __init__(self) -> None:
        self.engine = PolicyEngine(POLICIES)
        assert self.engine.load() == []
        self.log: list[Decision] = []
        self.deadlines: dict[str, datetime] = {}
        self.met: list[tuple[str, str]] = []

    async def decide(
        self,
        uow: DecisionLog,
        decision_point: str,
        facts: BaseModel,
        *,
        tenant: str,
        subject: str,
        source: str,
    ) -> Decision:
        decision = self.engine.evaluate(decision_point, facts, tenant)
        uow.log_decision(decision)
        return decision

    def evaluate(self, decision_point: str, facts: BaseModel, *, tenant: str) -> Decision:
        return self.engine.evaluate(decision_point, facts, tenant)

    def params(self, decision_point: str, tenant: str) -> dict[str, Any]:
        return self.engine.params(decision_point, tenant)

    def business_days_after(self, tenant: str, start: datetime, days: int) -> datetime:
        return start + timedelta(days=days)  # calendar days: the fake keeps no holidays

    async def schedule(
        self, uow: DecisionLog, decision: Decision, *, subject: str, now: datetime | None = None
    ) -> list[datetime]:
        start = now or datetime.now(UTC)
        due = [
            start + timedelta(days=rule.within_business_days or 0)
            for rule in decision.of("schedule")
        ]
        for when in due:
            self.deadlines[subject] = when
        return due

    async def meet(
        self,
        uow: DecisionLog,
        *,
        tenant: str,
        subject: str,
        task: str | None = None,
        status: str = "met",
    ) -> bool:
        self.met.append((subject, status))
        return self.deadlines.pop(subject, None) is not None
