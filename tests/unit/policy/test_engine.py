"""The engine: combining outcomes, shadow rules, overrides, hot reload and what a service sees."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from shared.contracts.billing import CollectPaymentFacts
from shared.policy.decision import combine
from shared.policy.engine import FactsInvalid, NoPolicy, PolicyEngine, PolicyMetrics
from shared.policy.service import PolicyRefused
from shared.policy.store import BusinessCalendar

POLICIES = Path(__file__).resolve().parents[3] / "policies"

RECORDS = """
id: records
version: {version}
owners: [o]
description: d
decision_point: accounting.create_record
params:
  min_items: {{type: integer, default: {min_items}}}
example_facts:
  record: {{kind: invoice, line_items: 5}}
rules:
  - id: needs-items
    title: t
    owner: o
    when: {{fact: record.line_items, lt: $params.min_items}}
    outcome: {{type: deny, reason: "{{record.kind}} needs {{params.min_items}} line items"}}
    examples:
      - name: none
        facts: {{record: {{line_items: 0}}}}
        expect: {{outcome: deny, matched: [needs-items]}}
  - id: big-invoice
    title: t
    owner: o
    status: shadow
    when: {{fact: record.total, gte: 10000}}
    outcome: {{type: escalate, to: billing_manager, reason: big}}
    examples:
      - name: big
        facts: {{record: {{total: 20000}}}}
        expect: {{outcome: allow, matched: [big-invoice]}}
overrides:
  - tenant: strict
    approved_by: controller@strict.example
    params: {{min_items: 3}}
"""


def records(version: int = 1, min_items: int = 1) -> str:
    return RECORDS.format(version=version, min_items=min_items)


def facts(line_items: int, total: str = "0") -> dict[str, object]:
    return {"record": {"kind": "invoice", "line_items": line_items, "total": total}}


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def engine(write_policy: Callable[..., Path], registry: CollectorRegistry) -> PolicyEngine:
    path = write_policy(records())
    engine = PolicyEngine(path.parent, metrics=PolicyMetrics(registry))
    assert engine.load() == []
    yield engine
    engine.close()


def test_deny_overrides() -> None:
    assert combine(["notify", "require", "hold", "escalate"]) == "hold"
    assert combine(["notify", "schedule"]) == "schedule"
    assert combine(["require", "deny", "notify"]) == "deny"
    assert combine([]) == "allow"


def test_every_matched_rule_is_reported_with_its_reason() -> None:
    engine = PolicyEngine(POLICIES)
    engine.load()
    try:
        decision = engine.evaluate(
            "billing.collect_payment",
            {
                "customer": {"open_complaints": 2, "open_repair_tickets": 1},
                "repairs": {"complete": False},
                "concession": {},
                "balance": "800.00",
            },
            "acme",
        )
    finally:
        engine.close()
    assert decision.outcome == "hold"
    assert [(m.rule, m.outcome) for m in decision.matched] == [
        ("hold-open-complaint", "hold"),
        ("hold-open-repairs", "hold"),
        ("tell-production", "notify"),
    ]
    assert decision.matched[0].reason.startswith("The customer has 2 open complaint(s)")
    assert decision.matched[2].to == "production"
    assert not decision.allowed
    assert [p.id for p in decision.policies] == ["collections"]


def test_a_refusal_names_what_is_missing_whatever_the_outcome() -> None:
    """A deny about something missing lists it as a require does: the refusal's ``missing``
    (the 409 body) names it, and every item of every refusing rule is listed once."""
    engine = PolicyEngine(POLICIES)
    engine.load()
    try:
        denied = engine.evaluate(
            "accounting.create_record", {"record": {"kind": "job", "line_items": 0}}, "acme"
        )
        moved = engine.evaluate(
            "jobs.change_job",
            {
                "actor": {"roles": ["admin"]},
                "job": {"milestone": "lead", "assigned": False},
                "change": {"command": "move_milestone", "to_milestone": "canceled"},
            },
            "acme",
        )
    finally:
        engine.close()
    assert denied.outcome == "deny" and denied.missing == ["line item"]
    assert PolicyRefused(denied).extensions["missing"] == ["line item"]
    assert moved.outcome == "require" and moved.missing == ["a reason for canceling"]


def test_shadow_rules_are_reported_but_not_enforced(
    engine: PolicyEngine, registry: CollectorRegistry
) -> None:
    decision = engine.evaluate("accounting.create_record", facts(2, "25000.00"), "acme")
    assert decision.outcome == "allow"
    assert [(m.rule, m.enforced) for m in decision.matched] == [("big-invoice", False)]
    assert decision.allowed
    labels = {
        "policy": "records",
        "rule": "big-invoice",
        "outcome": "escalate",
        "enforced": "false",
    }
    assert registry.get_sample_value("roofline_policy_decisions_total", labels) == 1


def test_tenant_override_applies_to_that_tenant_only(engine: PolicyEngine) -> None:
    default = engine.evaluate("accounting.create_record", facts(2), "acme")
    strict = engine.evaluate("accounting.create_record", facts(2), "strict")
    assert default.outcome == "allow"
    assert strict.outcome == "deny"
    assert strict.matched[0].reason == "invoice needs 3 line items"
    assert strict.policies[0].tenant_override == "strict"
    assert strict.policies[0].override_approved_by == "controller@strict.example"
    assert default.policies[0].tenant_override is None


def test_facts_are_validated_before_matching(engine: PolicyEngine) -> None:
    with pytest.raises(FactsInvalid, match=r"record\.line_items"):
        engine.evaluate("accounting.create_record", facts("three"), "acme")  # type: ignore[arg-type]
    with pytest.raises(FactsInvalid, match=r"record\.total: 1\.005 has more than 2 decimal places"):
        engine.evaluate("accounting.create_record", facts(1, "1.005"), "acme")


def test_a_point_without_rules_cannot_decide(engine: PolicyEngine) -> None:
    """A facts model instance is taken as it is; with no rules for its point: NoPolicy (503)."""
    with pytest.raises(NoPolicy) as refused:
        engine.evaluate(
            "billing.collect_payment",
            CollectPaymentFacts.model_validate(
                {"customer": {}, "repairs": {"complete": True}, "concession": {}, "balance": 0}
            ),
            "acme",
        )
    assert refused.value.body()["status"] == 503
    assert refused.value.body()["type"] == "urn:roofline:problem:policy-unavailable"


def test_a_bad_change_is_refused_and_the_last_good_rules_stay(
    engine: PolicyEngine,
    write_policy: Callable[..., Path],
    registry: CollectorRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert engine.evaluate("accounting.create_record", facts(0), "acme").outcome == "deny"
    good_hash = engine.active_sets()[0].hash
    write_policy(records(version=2).replace("lt: $params.min_items", "lt: lots"))
    assert engine.changed()
    with caplog.at_level(logging.ERROR):
        problems = engine.load()
    assert problems and "'record.line_items' is an integer; 'lots' is text" in str(problems[0])
    assert "policy file refused" in caplog.text
    decision = engine.evaluate("accounting.create_record", facts(0), "acme")
    assert decision.outcome == "deny"
    assert decision.policies[0].hash == good_hash
    assert engine.missing() == []
    assert registry.get_sample_value("roofline_policy_reloads_total", {"result": "refused"}) == 1
    assert registry.get_sample_value("roofline_policy_invalid_files") == 1


def test_a_valid_change_is_swapped_in(
    engine: PolicyEngine, write_policy: Callable[..., Path]
) -> None:
    write_policy(records(version=2, min_items=2))
    assert engine.load() == []
    decision = engine.evaluate("accounting.create_record", facts(1), "acme")
    assert decision.outcome == "deny"
    assert decision.policies[0].version == "2"
    assert not engine.changed()


def test_a_service_without_valid_rules_for_its_point_is_not_ready(
    write_policy: Callable[..., Path],
) -> None:
    path = write_policy(records().replace("lt: $params.min_items", "lt: lots"))
    engine = PolicyEngine(
        path.parent, required=["accounting.create_record", "billing.collect_payment"]
    )
    assert engine.load()
    assert engine.missing() == ["accounting.create_record", "billing.collect_payment"]
    with pytest.raises(NoPolicy):
        engine.evaluate("accounting.create_record", facts(1), "acme")
    write_policy(records())
    assert engine.load() == []
    assert engine.missing() == ["billing.collect_payment"]
    engine.close()


def test_each_decision_sees_exactly_one_version(
    engine: PolicyEngine, write_policy: Callable[..., Path]
) -> None:
    """Version 1 needs 1 line item, version 2 needs 5: a decision on 3 line items must match
    its own version's rule, whatever reload happens meanwhile."""
    expected = {"1": "allow", "2": "deny"}
    seen: set[str] = set()
    wrong: list[tuple[str, str]] = []
    stop = threading.Event()

    def decide() -> None:
        while not stop.is_set():
            decision = engine.evaluate("accounting.create_record", facts(3), "acme")
            version = decision.policies[0].version
            seen.add(version)
            if decision.outcome != expected[version]:
                wrong.append((version, decision.outcome))

    worker = threading.Thread(target=decide)
    worker.start()
    try:
        for round_number in range(10):
            write_policy(
                records(version=2 - round_number % 2, min_items=5 if round_number % 2 == 0 else 1)
            )
            assert engine.load() == []
    finally:
        stop.set()
        worker.join()
    assert wrong == []
    assert seen == {"1", "2"}


def test_deleting_a_file_removes_its_rules(
    engine: PolicyEngine, write_policy: Callable[..., Path]
) -> None:
    (engine.directory / "policy.yaml").unlink()
    engine.load()
    with pytest.raises(NoPolicy):
        engine.evaluate("accounting.create_record", facts(1), "acme")


def test_business_days_skip_weekends_and_the_tenants_holidays() -> None:
    calendar = BusinessCalendar("US", {"texan": "US-TX"})
    wednesday = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # the day before Thanksgiving
    # Texas also observes the day after Thanksgiving: Mon 30, Tue 1, Wed 2.
    assert calendar.add_business_days("texan", wednesday, 3).date().isoformat() == "2026-12-02"
    # Federal calendar: Fri 27, Mon 30, Tue 1.
    assert calendar.add_business_days("other", wednesday, 3).date().isoformat() == "2026-12-01"
