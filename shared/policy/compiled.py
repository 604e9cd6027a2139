"""The compiled form of a policy set: what both evaluators run.

Compiling resolves ``$params`` (with a tenant's overrides), checks and converts every literal to
the fact's type, and pushes ``not`` down to the tests (``not (a lt 3)`` is ``a gte 3``), so the
durable-rules ruleset and the plain-Python evaluator work from the same, negation-free tree.

A test of a fact that is not set is false whatever the operator, except ``exists: false``.
Negation keeps that: ``not (colour eq red)`` is ``colour ne red``, false when no colour is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.policy.facts import FactField
from shared.policy.format import Override

# Each operator's negation. ``matches`` has none in durable-rules, so it may not appear under not.
NEGATED = {
    "eq": "ne",
    "ne": "eq",
    "lt": "gte",
    "gte": "lt",
    "gt": "lte",
    "lte": "gt",
    "in": "not_in",
    "not_in": "in",
}


@dataclass(frozen=True, slots=True)
class FactCheck:
    path: str
    op: str
    # Converted to the fact's type; a tuple for in/not_in; a bool for exists.
    value: Any
    fact: FactField
    # Where it came from, for explain: "materials.colour exists: false".
    source: str


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Node, ...]


Node = FactCheck | AllOf | AnyOf
ALWAYS = AllOf(())


@dataclass(frozen=True, slots=True)
class CompiledOutcome:
    type: str
    reason: str
    items: tuple[str, ...] = ()
    to: str | None = None
    task: str | None = None
    within_business_days: int | None = None
    escalate_to: str | None = None
    only_when_allowed: bool = False


@dataclass(frozen=True, slots=True)
class CompiledRule:
    id: str
    title: str
    owner: str
    status: str  # active | shadow (disabled rules are not compiled)
    condition: Node
    outcome: CompiledOutcome

    @property
    def enforced(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class CompiledPolicySet:
    id: str
    version: str
    hash: str
    decision_point: str
    source: str  # file path
    tenant: str | None  # None: the defaults; else the tenant whose override is applied
    override: Override | None
    params: dict[str, Any]
    rules: tuple[CompiledRule, ...]
    rules_by_id: dict[str, CompiledRule] = field(init=False, repr=False)
    # Parts of decisions that depend only on this compiled set (its version reference, the
    # matches of rules whose reasons have no placeholders), built once by shared.policy.decision.
    memo: dict[Any, Any] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules_by_id", {rule.id: rule for rule in self.rules})


def negate(node: Node) -> Node:
    if isinstance(node, AllOf):
        if not node.items:
            raise ValueError("'not' of 'always' never holds")
        return AnyOf(tuple(negate(item) for item in node.items))
    if isinstance(node, AnyOf):
        return AllOf(tuple(negate(item) for item in node.items))
    if node.op == "exists":
        return FactCheck(node.path, "exists", not node.value, node.fact, f"not ({node.source})")
    if node.op == "matches":
        raise ValueError(
            "'matches' cannot be used inside 'not'; write the pattern for the values you want"
        )
    return FactCheck(node.path, NEGATED[node.op], node.value, node.fact, f"not ({node.source})")
