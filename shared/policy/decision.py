"""A decision: the combined outcome, every matched rule with its rendered reason, and which policy
versions (and tenant overrides) produced it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from shared.policy.compiled import CompiledPolicySet, CompiledRule
from shared.policy.facts import flatten
from shared.policy.format import PRECEDENCE

# Outcomes that stop the action; escalate, schedule and notify let it go ahead.
BLOCKING = ("deny", "hold", "require")
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.$]+)\}")


# Plain dataclasses, not pydantic models: a decision is built for every evaluation from values
# the compiled policy already validated, and model construction was the largest cost measured.
@dataclass(frozen=True, slots=True)
class MatchedRule:
    policy: str
    rule: str
    title: str
    outcome: str
    enforced: bool  # False for a shadow rule: reported and logged, never acted on
    reason: str
    items: tuple[str, ...] = ()
    to: str | None = None
    task: str | None = None
    within_business_days: int | None = None
    escalate_to: str | None = None
    only_when_allowed: bool = False  # a notify told only if the action goes ahead


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    id: str
    version: str
    hash: str
    tenant_override: str | None = None  # the tenant whose approved override was applied
    override_approved_by: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    decision_id: uuid.UUID
    decision_point: str
    tenant: str
    outcome: str
    matched: tuple[MatchedRule, ...]
    policies: tuple[PolicyVersion, ...]

    @property
    def enforced(self) -> tuple[MatchedRule, ...]:
        return tuple(rule for rule in self.matched if rule.enforced)

    def of(self, outcome: str) -> tuple[MatchedRule, ...]:
        """The enforced matches with this outcome (e.g. every ``schedule``, for its deadlines)."""
        return tuple(rule for rule in self.enforced if rule.outcome == outcome)

    @property
    def allowed(self) -> bool:
        """Nothing blocks: no enforced deny, hold or require (escalate/notify/schedule do not)."""
        return not any(self.of(kind) for kind in BLOCKING)

    @property
    def missing(self) -> list[str]:
        """What is missing for the action to go ahead: the items of every enforced rule that
        blocks it, in order, each once. A ``require`` always lists them; a ``deny`` (or ``hold``)
        about something missing lists it too (``items: [line item]``)."""
        return list(
            dict.fromkeys(
                item for rule in self.enforced if rule.outcome in BLOCKING for item in rule.items
            )
        )

    @property
    def policy_hash(self) -> str:
        return ",".join(f"{p.id}@{p.hash}" for p in self.policies)


def combine(outcomes: list[str]) -> str:
    """Deny-overrides: the strongest outcome wins (deny > hold > escalate > require > schedule >
    notify); nothing enforced is "allow"."""
    return min(outcomes, key=PRECEDENCE.index, default="allow")


def render(template: str, facts: dict[str, Any], params: dict[str, Any]) -> str:
    """Fill ``{fact.path}`` and ``{params.name}`` in a reason (checked by the linter)."""

    if "{" not in template:
        return template

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        found = params.get(name[7:]) if name.startswith("params.") else facts.get(name)
        return _display(found)

    return _PLACEHOLDER.sub(value, template)


def placeholders(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)


def _display(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_display(item) for item in value) or "(none)"
    if isinstance(value, Decimal | date):
        return str(value)
    return str(value)


def matched_rule(
    policy: CompiledPolicySet, rule: CompiledRule, facts: Callable[[], dict[str, Any]]
) -> MatchedRule:
    """The report of ``rule`` matching ``facts``; built once when its texts have no
    placeholders (most rules), as it is then the same for every decision."""
    static = policy.memo.get(rule.id)
    if static is not None:
        return static
    match = _matched_rule(policy, rule, facts())
    if not any(placeholders(text) for text in (rule.outcome.reason, *rule.outcome.items)):
        policy.memo[rule.id] = match
    return match


def _matched_rule(
    policy: CompiledPolicySet, rule: CompiledRule, facts: dict[str, Any]
) -> MatchedRule:
    outcome = rule.outcome
    return MatchedRule(
        policy=policy.id,
        rule=rule.id,
        title=rule.title,
        outcome=outcome.type,
        enforced=rule.enforced,
        reason=render(outcome.reason, facts, policy.params),
        items=tuple(render(item, facts, policy.params) for item in outcome.items),
        to=outcome.to,
        task=outcome.task,
        within_business_days=outcome.within_business_days,
        escalate_to=outcome.escalate_to,
        only_when_allowed=outcome.only_when_allowed,
    )


def policy_version(policy: CompiledPolicySet) -> PolicyVersion:
    version = policy.memo.get(PolicyVersion)
    if version is None:
        version = policy.memo[PolicyVersion] = _policy_version(policy)
    return version


def _policy_version(policy: CompiledPolicySet) -> PolicyVersion:
    return PolicyVersion(
        id=policy.id,
        version=policy.version,
        hash=policy.hash,
        tenant_override=policy.tenant,
        override_approved_by=policy.override.approved_by if policy.override else None,
    )


def decide(
    decision_point: str,
    tenant: str,
    evaluated: list[tuple[CompiledPolicySet, list[str]]],
    facts: BaseModel,
    decision_id: uuid.UUID,
) -> Decision:
    """The Decision for the rule ids each policy set matched on ``facts``."""
    flat: dict[str, Any] = {}

    def flat_facts() -> dict[str, Any]:
        # Only reasons with {placeholders} need the facts as paths: worked out at most once.
        if not flat:
            flat.update(flatten(facts))
        return flat

    matched = tuple(
        matched_rule(policy, policy.rules_by_id[rule_id], flat_facts)
        for policy, rule_ids in evaluated
        for rule_id in rule_ids
    )
    return Decision(
        decision_id=decision_id,
        decision_point=decision_point,
        tenant=tenant,
        outcome=combine([rule.outcome for rule in matched if rule.enforced]),
        matched=matched,
        policies=tuple(policy_version(policy) for policy, _ in evaluated),
    )
