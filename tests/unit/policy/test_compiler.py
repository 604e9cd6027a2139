"""The compiled form: params resolved per tenant, literals typed, negation pushed to the tests."""

from __future__ import annotations

from decimal import Decimal

from shared.contracts.billing import CollectPaymentFacts
from shared.policy.compiled import AllOf, AnyOf, FactCheck
from shared.policy.compiler import compile_policy
from shared.policy.facts import fact_fields
from shared.policy.format import PolicySetFile

FIELDS = fact_fields(CollectPaymentFacts)


def spec(when: object, **extra: object) -> PolicySetFile:
    return PolicySetFile.model_validate(
        {
            "id": "c",
            "version": 3,
            "owners": ["o"],
            "description": "d",
            "decision_point": "billing.collect_payment",
            "params": {"low": {"type": "integer", "default": 2}},
            "rules": [
                {
                    "id": "r",
                    "title": "t",
                    "owner": "o",
                    "when": when,
                    "outcome": {"type": "hold", "reason": "x"},
                    "examples": [{"name": "e", "expect": {"outcome": "allow"}}],
                }
            ],
            **extra,
        }
    )


def condition(when: object, **extra: object):
    return (
        compile_policy(spec(when, **extra), FIELDS, content_hash="h", source="s").rules[0].condition
    )


def test_not_is_pushed_down_to_the_tests() -> None:
    compiled = condition(
        {
            "not": {
                "all": [
                    {"fact": "customer.satisfaction_rating", "lte": 2},
                    {
                        "any": [
                            {"fact": "repairs.complete", "eq": True},
                            {"fact": "balance", "exists": True},
                        ]
                    },
                ]
            }
        }
    )
    assert isinstance(compiled, AnyOf)
    first, second = compiled.items
    assert (first.path, first.op, first.value) == ("customer.satisfaction_rating", "gt", 2)
    assert isinstance(second, AllOf)
    assert [(t.path, t.op, t.value) for t in second.items] == [
        ("repairs.complete", "ne", True),
        ("balance", "exists", False),
    ]


def test_params_resolve_per_tenant_override() -> None:
    overrides = {"overrides": [{"tenant": "gentle", "approved_by": "cfo", "params": {"low": 1}}]}
    policy_spec = spec({"fact": "customer.satisfaction_rating", "lte": "$params.low"}, **overrides)
    default = compile_policy(policy_spec, FIELDS, content_hash="h", source="s")
    gentle = compile_policy(
        policy_spec, FIELDS, content_hash="h", source="s", override=policy_spec.overrides[0]
    )
    assert default.rules[0].condition.value == 2
    assert gentle.rules[0].condition.value == 1
    assert (gentle.tenant, gentle.override.approved_by, gentle.version) == ("gentle", "cfo", "3")


def test_literals_take_the_facts_type() -> None:
    compiled = condition({"fact": "balance", "gte": 1250.5})
    assert isinstance(compiled, FactCheck)
    assert compiled.value == Decimal("1250.5")
    assert isinstance(compiled.value, Decimal)


def test_always_is_an_empty_all() -> None:
    assert condition("always") == AllOf(())


def test_disabled_rules_are_not_compiled() -> None:
    policy_spec = spec("always")
    disabled = policy_spec.model_copy(
        update={"rules": [policy_spec.rules[0].model_copy(update={"status": "disabled"})]}
    )
    assert compile_policy(disabled, FIELDS, content_hash="h", source="s").rules == ()
