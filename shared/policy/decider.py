"""The policy layer as a service's handlers use it: the interface their ``ports.py`` name, which
``shared.policy.service.PolicyLayer`` implements and the unit tests' fakes imitate."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

from shared.policy.decision import Decision


class Decider(Protocol):
    async def decide(
        self,
        uow: Any,
        decision_point: str,
        facts: BaseModel,
        *,
        tenant: str,
        subject: str,
        source: str,
    ) -> Decision:
        """Decide at ``decision_point`` on ``facts``; the decision is logged in ``uow``."""
        ...

    def evaluate(self, decision_point: str, facts: BaseModel, *, tenant: str) -> Decision:
        """What ``decide`` would answer, not logged (nothing is notified)."""
        ...

    def params(self, decision_point: str, tenant: str) -> dict[str, Any]:
        """The params of the point's policy sets, with ``tenant``'s overrides."""
        ...

    def business_days_after(self, tenant: str, start: datetime, days: int) -> datetime:
        """``days`` business days after ``start`` on the tenant's calendar (at ``start``'s time
        of day)."""
        ...

    async def schedule(
        self, uow: Any, decision: Decision, *, subject: str, now: datetime | None = None
    ) -> list[datetime]:
        """Store the deadlines of the decision's ``schedule`` outcomes; their due times."""
        ...

    async def meet(
        self,
        uow: Any,
        *,
        tenant: str,
        subject: str,
        task: str | None = None,
        status: str = "met",
    ) -> bool:
        """The subject's deadlines (of ``task``, or all) were met or are canceled."""
        ...
