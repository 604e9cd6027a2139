"""durable-rules and the plain-Python evaluator decide identically on the same compiled rules:
every shipped example, and thousands of generated rules x fact sets over every kind of fact."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import Field

from shared.contracts.base import Facts, decision_point, decision_points
from shared.policy.compiler import compile_policy
from shared.policy.evaluators import DurableEvaluator, PythonEvaluator, durable_fact
from shared.policy.facts import fact_fields, flatten
from shared.policy.format import PolicySetFile
from shared.policy.loader import deep_merge, load_policy_dir

POLICIES = Path(__file__).resolve().parents[3] / "policies"
POINT = "test.every_kind"


class Inner(Facts):
    count: int | None = None
    amount: Decimal | None = None
    flag: bool | None = None
    when: date | None = None
    label: str | None = None
    colour: Literal["red", "green", "blue"] | None = None
    tags: list[Literal["metal", "siding", "a-b", "x y"]] = Field(default_factory=list)


if POINT not in decision_points():

    @decision_point(POINT, "FactCheck only: one fact of every kind.")
    class EveryKind(Facts):
        inner: Inner


FIELDS = fact_fields(decision_points()[POINT].facts)
VALUES: dict[str, list[Any]] = {
    "inner.count": [-1, 0, 1, 2, 5, 100],
    "inner.amount": [
        Decimal("0"),
        Decimal("0.01"),
        Decimal("9.99"),
        Decimal("10"),
        Decimal("-3.5"),
    ],
    "inner.flag": [True, False],
    "inner.when": [date(2026, 1, 1), date(2026, 6, 30), date(2027, 1, 1)],
    "inner.label": ["", "AB-12", "ab-12", "claim 7", "Z"],
    "inner.colour": ["red", "green", "blue"],
    "inner.tags": ["metal", "siding", "a-b", "x y"],
}
OPERATORS = {
    "integer": ["eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "exists"],
    "decimal": ["eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "exists"],
    "date": ["eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "exists"],
    "boolean": ["eq", "ne", "exists"],
    "text": ["eq", "ne", "in", "not_in", "exists", "matches"],
    "choice": ["eq", "ne", "in", "not_in", "exists"],
    "list": ["in", "not_in", "exists"],
}
PATTERNS = ["[A-Z]{2}-[0-9]+", "claim .*", "Z?", "[a-z]+-1[0-9]"]


def _yaml_value(value: Any) -> Any:
    return str(value) if isinstance(value, date) else value


def random_test(rng: random.Random, *, negatable: bool) -> dict[str, Any]:
    path = rng.choice(list(VALUES))
    # 'matches' has no negation, so the linter refuses it under 'not'.
    op = rng.choice([op for op in OPERATORS[FIELDS[path].kind] if negatable or op != "matches"])
    if op == "exists":
        return {"fact": path, "exists": rng.random() < 0.5}
    if op == "matches":
        return {"fact": path, "matches": rng.choice(PATTERNS)}
    if op in ("in", "not_in"):
        values = rng.sample(VALUES[path], k=rng.randint(1, min(3, len(VALUES[path]))))
        return {"fact": path, op: [_yaml_value(v) for v in values]}
    return {"fact": path, op: _yaml_value(rng.choice(VALUES[path]))}


def random_condition(rng: random.Random, depth: int = 0, *, under_not: bool = False) -> Any:
    roll = rng.random()
    if depth >= 3 or roll < 0.45:
        return random_test(rng, negatable=not under_not)
    if roll < 0.65:
        return {
            "all": [
                random_condition(rng, depth + 1, under_not=under_not)
                for _ in range(rng.randint(1, 3))
            ]
        }
    if roll < 0.85:
        return {
            "any": [
                random_condition(rng, depth + 1, under_not=under_not)
                for _ in range(rng.randint(1, 3))
            ]
        }
    return {"not": random_condition(rng, depth + 1, under_not=True)}


def random_facts(rng: random.Random) -> Inner:
    values: dict[str, Any] = {}
    for path, choices in VALUES.items():
        name = path.split(".")[1]
        if name == "tags":
            values[name] = rng.sample(choices, k=rng.randint(0, 3))
        elif rng.random() < 0.2:
            values[name] = None  # not set
        else:
            values[name] = rng.choice(choices)
    return Inner(**values)


def random_policy(rng: random.Random, rules: int) -> PolicySetFile:
    return PolicySetFile.model_validate(
        {
            "id": "generated",
            "version": 1,
            "owners": ["test"],
            "description": "generated",
            "decision_point": POINT,
            "rules": [
                {
                    "id": f"r{index}",
                    "title": "t",
                    "owner": "o",
                    "status": rng.choice(["active", "active", "shadow"]),
                    "when": random_condition(rng),
                    "outcome": {"type": "deny", "reason": "x"},
                    "examples": [{"name": "e", "expect": {"outcome": "allow"}}],
                }
                for index in range(rules)
            ],
        }
    )


@pytest.mark.parametrize("seed", range(8))
def test_generated_rules_and_facts_decide_the_same(seed: int) -> None:
    rng = random.Random(seed)
    policy = compile_policy(random_policy(rng, 40), FIELDS, content_hash="h", source="gen")
    durable = DurableEvaluator.compile(policy)
    python = PythonEvaluator(policy)
    matches = 0
    try:
        for _ in range(500):
            facts = EveryKindFacts(inner=random_facts(rng))
            expected = python.matched(flatten(facts))
            assert durable.matched(durable_fact(facts)) == expected, facts
            matches += len(expected)
    finally:
        durable.close()
    # The generator is useful only if rules both match and miss.
    assert 0 < matches < 40 * 500


def test_every_shipped_example_and_generated_variations_decide_the_same() -> None:
    loaded = load_policy_dir(POLICIES)
    rng = random.Random(7)
    compared = 0
    try:
        for policy_set in loaded.sets.values():
            model = policy_set.point.facts
            examples = [
                deep_merge(policy_set.spec.example_facts, example.facts)
                for rule in policy_set.spec.rules
                for example in rule.examples
            ]
            for variant_key, variant in policy_set.variants.items():
                durable = policy_set.durable[variant_key]
                python = PythonEvaluator(variant)
                for facts in examples + [mutate(rng, rng.choice(examples)) for _ in range(1500)]:
                    try:
                        model_facts = model.model_validate(facts)
                    except ValueError:
                        continue  # a mutation the facts model refuses never reaches matching
                    assert durable.matched(durable_fact(model_facts)) == (
                        python.matched(flatten(model_facts))
                    ), (policy_set.id, facts)
                    compared += 1
    finally:
        for policy_set in loaded.sets.values():
            policy_set.close()
    assert compared > 2000


def mutate(rng: random.Random, facts: dict[str, Any]) -> dict[str, Any]:
    """Flip, bump, clear or swap a few leaves of a fact set."""
    mutated = deep_merge({}, facts)
    for _ in range(rng.randint(1, 4)):
        section = rng.choice(list(mutated))
        if not isinstance(mutated[section], dict) or not mutated[section]:
            continue
        key = rng.choice(list(mutated[section]))
        value = mutated[section][key]
        if isinstance(value, bool):
            mutated[section][key] = not value
        elif isinstance(value, int | float):
            mutated[section][key] = rng.choice([0, 1, 2, 3, 5, value + 1, max(value - 1, 0)])
        elif isinstance(value, list):
            mutated[section][key] = rng.sample(
                ["roofing", "metal", "siding", "gutters", "sales", "csa", "admin"],
                k=rng.randint(0, 2),
            )
        else:
            mutated[section][key] = rng.choice(
                [None, value, "approved", "lead", "closed", "canceled"]
            )
    return mutated


EveryKindFacts = decision_points()[POINT].facts
