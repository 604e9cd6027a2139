"""The weekly plan aggregate: its visits generated ahead on the plan's day, kept filled, paused
and resumed, skipped, moved to another day (future visits only) and ended."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.tickets.domain import Customer, TicketRuleBroken
from services.tickets.domain.plans import MaintenancePlan
from shared.contracts import tickets as contract

WEDNESDAY, FRIDAY = 2, 4
FIRST = date(2026, 12, 2)  # a Wednesday
APPROVED_ON = date(2026, 12, 4)


def proposed() -> MaintenancePlan:
    plan, events = MaintenancePlan.propose(
        tenant_id="acme",
        plan_id="p1",
        customer=Customer(name="Dana Reyes", property_address="12 Elm St"),
        job_id=None,
        weekday=WEDNESDAY,
        technician_id="tom",
        monthly_price=Decimal("120.00"),
        first_visit=FIRST,
        tracking_ticket_id="t1",
        tech_ticket_id="t2",
        by="sue",
    )
    assert [type(e) for e in events] == [contract.PlanProposed] and plan.version == 1
    return plan


def approved() -> MaintenancePlan:
    plan = proposed()
    plan.approve(today=APPROVED_ON, by="sue", at=datetime(2026, 12, 4, 15, tzinfo=UTC))
    return plan


def weekly(start: date, through: date) -> list[date]:
    days = []
    while start <= through:
        days.append(start)
        start += timedelta(weeks=1)
    return days


def test_approval_prorates_the_first_month_and_fills_eight_weeks_ahead() -> None:
    plan = proposed()
    proration, events = plan.approve(
        today=APPROVED_ON, by="sue", at=datetime(2026, 12, 4, 15, tzinfo=UTC)
    )
    assert (proration.visits_left, proration.visits_in_month, proration.amount) == (
        5,
        5,
        Decimal("120.00"),
    )
    approved_event, scheduled = events
    assert isinstance(approved_event, contract.PlanApproved)
    assert (
        approved_event.first_month_visits == "Weekly service, December 2026 prorated: 5 of 5 visits"
    )
    assert isinstance(scheduled, contract.PlanVisitsScheduled)
    horizon = APPROVED_ON + timedelta(weeks=8)
    assert scheduled.scheduled == weekly(date(2026, 12, 9), horizon)
    assert plan.scheduled_days == [FIRST, *weekly(date(2026, 12, 9), horizon)]
    assert plan.version == 3


def test_the_horizon_is_kept_filled_once_per_new_week() -> None:
    plan = approved()
    assert plan.fill_horizon(APPROVED_ON) == []
    later = plan.fill_horizon(APPROVED_ON + timedelta(days=7))
    (event,) = later
    assert event.scheduled == [date(2027, 2, 3)]
    assert plan.fill_horizon(APPROVED_ON + timedelta(days=7)) == []


def test_pausing_cancels_the_visits_ahead_and_resuming_puts_them_back() -> None:
    plan = approved()
    today = date(2026, 12, 20)
    changed, canceled = plan.pause(today=today, by="sue")
    assert isinstance(changed, contract.PlanChanged) and changed.change == "paused"
    assert canceled.canceled == weekly(date(2026, 12, 23), APPROVED_ON + timedelta(weeks=8))
    assert plan.scheduled_days == weekly(FIRST, date(2026, 12, 16))
    assert plan.fill_horizon(date(2026, 12, 27)) == []  # paused: nothing generated
    resumed_on = date(2027, 1, 5)
    _, scheduled = plan.resume(today=resumed_on, by="sue")
    assert scheduled.scheduled == weekly(date(2027, 1, 6), resumed_on + timedelta(weeks=8))


def test_one_visit_skipped() -> None:
    plan = approved()
    plan.skip(date(2026, 12, 23), by="sue")
    assert date(2026, 12, 23) not in plan.scheduled_days
    with pytest.raises(TicketRuleBroken, match="no visit scheduled on 2026-12-23"):
        plan.skip(date(2026, 12, 23), by="sue")
    with pytest.raises(TicketRuleBroken, match="no visit scheduled on 2026-12-24"):
        plan.skip(date(2026, 12, 24), by="sue")


def test_changing_the_day_moves_future_visits_only() -> None:
    plan = approved()
    today = date(2026, 12, 17)  # a Thursday: the 16th is past, the 23rd ahead
    plan.change_day(FRIDAY, today=today, by="sue")
    days = plan.scheduled_days
    assert [d for d in days if d < today] == [FIRST, date(2026, 12, 9), date(2026, 12, 16)]
    assert [d for d in days if d >= today] == weekly(date(2026, 12, 18), today + timedelta(weeks=8))
    with pytest.raises(TicketRuleBroken, match="already on fridays"):
        plan.change_day(FRIDAY, today=today, by="sue")


def test_ending_cancels_what_is_ahead_and_ends_it_for_good() -> None:
    plan = approved()
    plan.end(today=date(2026, 12, 10), by="sue")
    assert plan.scheduled_days == [FIRST, date(2026, 12, 9)]
    for attempt in (
        lambda: plan.pause(today=date(2026, 12, 11), by="sue"),
        lambda: plan.approve(
            today=date(2026, 12, 11), by="sue", at=datetime(2026, 12, 11, tzinfo=UTC)
        ),
    ):
        with pytest.raises(TicketRuleBroken, match="from ended"):
            attempt()


def test_a_declined_trial_frees_its_first_visit() -> None:
    plan = proposed()
    _, canceled = plan.decline(by="sue")
    assert (plan.status, canceled.canceled, plan.scheduled_days) == ("declined", [FIRST], [])


PLAN_COMMANDS = st.sampled_from(
    ["approve", "decline", "pause", "resume", "skip", "monday", "friday", "end", "fill"]
)


def run_plan(plan: MaintenancePlan, command: str, today: date) -> list:
    at = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    match command:
        case "approve":
            return plan.approve(today=today, by="sue", at=at)[1]
        case "decline":
            return plan.decline(by="sue")
        case "pause":
            return plan.pause(today=today, by="sue")
        case "resume":
            return plan.resume(today=today, by="sue")
        case "skip":
            ahead = [day for day in plan.scheduled_days if day >= today]
            return plan.skip(ahead[0] if ahead else today, by="sue")
        case "monday" | "friday":
            return plan.change_day(0 if command == "monday" else 4, today=today, by="sue")
        case "end":
            return plan.end(today=today, by="sue")
        case _:
            return plan.fill_horizon(today)


@settings(max_examples=300, deadline=None)
@given(
    commands=st.lists(st.tuples(PLAN_COMMANDS, st.integers(0, 20)), max_size=20),
)
def test_no_command_sequence_leaves_a_plan_inconsistent(commands: list[tuple[str, int]]) -> None:
    plan = proposed()
    events = 1
    today = FIRST - timedelta(days=3)
    for command, days_later in commands:
        today += timedelta(days=days_later)
        before = plan.model_copy(deep=True)
        try:
            events += len(run_plan(plan, command, today))
        except TicketRuleBroken:
            assert plan == before, f"{command} was refused but changed the plan"
            continue
        days = [visit.day for visit in plan.visits]
        assert len(days) == len(set(days)), "a day visited twice"
        assert plan.version == events
        if plan.status in ("paused", "ended", "declined"):
            assert not [d for d in plan.scheduled_days if d >= today], "visits ahead of a stop"
        if plan.status == "active":
            ahead = [d for d in plan.scheduled_days if d > today]
            assert all(d.weekday() == plan.weekday for d in ahead), "a visit ahead off its day"
