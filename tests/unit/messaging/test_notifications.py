"""What reaches people from the policy layer: each notify or escalate reaches every holder of
its role in the tenant, as an inbox item, and as an email for those who take email, after their
quiet hours; once per cause, rule and person. And how an email's failures are retried."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from services.messaging.domain.directory import Person, QuietHours
from services.messaging.domain.email import after_failure, backoff
from services.messaging.domain.notifications import (
    deliveries,
    notices_of_deadline,
    notices_of_decision,
)
from shared.contracts.policy import MatchedRuleSummary, PolicyDeadlinePassed, PolicyDecisionMade

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # 09:00 in Chicago
TINA = Person(user_id="tina", name="Tina", email="tina@acme.example", roles=("trade_manager",))
MIKE = Person(
    user_id="mike",
    name="Mike",
    email="mike@acme.example",
    roles=("trade_manager",),
    email_enabled=False,
)
SAM = Person(user_id="sam", name="Sam", email="sam@acme.example", roles=("sales",))


def decision(*matched: MatchedRuleSummary) -> PolicyDecisionMade:
    return PolicyDecisionMade(
        decision_id="d1",
        decision_point="jobs.submit_to_production",
        subject="job-9",
        outcome="notify",
        matched=list(matched),
        policies=[],
        facts={},
        source="POST /jobs/{job_id}/handoff",
    )


def rule(outcome: str, to: str | None, enforced: bool = True) -> MatchedRuleSummary:
    return MatchedRuleSummary(
        policy="special_trades",
        rule=f"r-{outcome}",
        outcome=outcome,
        enforced=enforced,
        reason="Metal job: the trade manager coordinates it.",
        to=to,
    )


def test_a_notify_reaches_every_holder_of_the_role_and_emails_those_who_take_it() -> None:
    (notice,) = notices_of_decision(
        decision(
            rule("notify", "trade_manager"),
            rule("require", None),
            rule("notify", "csa", enforced=False),
        )
    )
    sent = deliveries(notice, "acme", [TINA, MIKE, SAM], NOW)
    assert [(d.user_id, d.email is not None) for d in sent] == [("tina", True), ("mike", False)]
    email = sent[0].email
    assert email is not None and email.to_address == "tina@acme.example"
    assert email.subject == "[Roofline] Notify: jobs.submit_to_production on job-9"
    # Once per cause, rule and person: the same decision again makes the same ids.
    again = deliveries(notice, "acme", [TINA], NOW)
    assert again[0].item_id == sent[0].item_id == email.email_id
    assert deliveries(notice, "other", [TINA], NOW)[0].item_id != sent[0].item_id


def test_a_passed_deadline_escalates_to_its_role() -> None:
    passed = PolicyDeadlinePassed(
        deadline_id=7,
        decision_id="d1",
        policy="production_schedule",
        rule="schedule-after-handoff",
        subject="job-9",
        task="schedule production",
        due_at=NOW,
        escalate_to="production_manager",
    )
    (notice,) = notices_of_deadline(passed)
    assert (notice.role, notice.key) == ("production_manager", "deadline:7")
    assert notices_of_deadline(passed.model_copy(update={"escalate_to": None})) == []


def test_quiet_hours_hold_the_email_until_they_end() -> None:
    night = QuietHours(start=time(20, 0), end=time(7, 0), timezone="America/Chicago")
    assert night.ends_after(NOW) is None  # 09:00 there
    late = datetime(2026, 12, 3, 4, 30, tzinfo=UTC)  # 22:30 there
    assert night.ends_after(late) == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)  # 07:00 there
    early = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)  # 05:00 there
    assert night.ends_after(early) == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    quiet_tina = TINA.model_copy(update={"quiet_hours": night})
    (notice,) = notices_of_decision(decision(rule("escalate", "trade_manager")))
    (held,) = deliveries(notice, "acme", [quiet_tina], late)
    assert held.send_after == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    with pytest.raises(ValidationError, match="unknown time zone"):
        QuietHours(start=time(20), end=time(7), timezone="Mars/Olympus")


def test_a_bounced_address_gets_no_more_email() -> None:
    (notice,) = notices_of_decision(decision(rule("notify", "trade_manager")))
    (item,) = deliveries(notice, "acme", [TINA.model_copy(update={"bounced": True})], NOW)
    assert item.email is None


def test_failures_back_off_and_give_up() -> None:
    assert [backoff(n, 30).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff(20, 30) == timedelta(hours=1)
    assert after_failure(1, 8, permanent=False, now=NOW, base_s=30) == (
        "queued",
        NOW + timedelta(seconds=30),
    )
    assert after_failure(8, 8, permanent=False, now=NOW, base_s=30) == ("failed", None)
    assert after_failure(1, 8, permanent=True, now=NOW, base_s=30) == ("failed", None)


def test_a_refused_action_still_tells_unless_the_notify_is_only_when_allowed() -> None:
    only_if_allowed = rule("notify", "trade_manager").model_copy(
        update={"only_when_allowed": True, "rule": "r-handoff"}
    )
    refused = decision(
        rule("notify", "production"), only_if_allowed, rule("escalate", "billing_manager")
    ).model_copy(update={"outcome": "hold"})
    # collections' tell-production comes with a hold: production is told all the same.
    assert [n.role for n in notices_of_decision(refused)] == ["production", "billing_manager"]
    allowed = refused.model_copy(update={"outcome": "notify"})
    assert [n.role for n in notices_of_decision(allowed)] == [
        "production",
        "trade_manager",
        "billing_manager",
    ]
