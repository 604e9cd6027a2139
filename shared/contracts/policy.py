"""Events of the policy layer, published by whichever service made the decision (on its own
topic, keyed by the decision's subject)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import EventData, catalogued


class MatchedRuleSummary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: str
    rule: str
    outcome: str
    enforced: bool
    reason: str
    to: str | None = Field(None, description="The role a notify or escalate is for.")
    only_when_allowed: bool = Field(
        False, description="A notify to deliver only if the decision let the action go ahead."
    )


class PolicyVersionSummary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    version: str
    hash: str
    tenant_override: str | None = None


@catalogued("policy.decision_made.v1")
class PolicyDecisionMade(EventData):
    decision_id: str
    decision_point: str
    subject: str
    outcome: str
    matched: list[MatchedRuleSummary]
    policies: list[PolicyVersionSummary]
    facts: dict[str, Any]
    source: str


@catalogued("policy.deadline_passed.v1")
class PolicyDeadlinePassed(EventData):
    deadline_id: int
    decision_id: str
    policy: str
    rule: str
    subject: str
    task: str
    due_at: datetime
    escalate_to: str | None
