"""The weekly maintenance plan (seed 003, "New Weekly"): proposed with a first visit, approved
into a recurring plan whose visits are generated ahead on the technician's calendar (a rolling
horizon the service keeps filled), paused and resumed, a visit skipped, the day changed (future
visits only), declined or ended.

The plan owns its visit days; the tech work order's bookings on the calendar follow them. Every
command returns the events it recorded and bumps ``version`` once per event.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.tickets.domain.errors import TicketRuleBroken
from services.tickets.domain.proration import Proration, prorate
from services.tickets.domain.values import Customer, Money
from shared.contracts import tickets as contract
from shared.contracts.base import EventData
from shared.contracts.tickets import PlanStatus

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HORIZON_WEEKS = 8
# Where a plan may go from each status.
PLAN_STEPS: dict[PlanStatus, frozenset[PlanStatus]] = {
    "proposed": frozenset({"active", "declined", "ended"}),
    "active": frozenset({"paused", "ended"}),
    "paused": frozenset({"active", "ended"}),
    "declined": frozenset(),
    "ended": frozenset(),
}
Change = Literal["paused", "resumed", "visit_skipped", "day_changed", "declined", "ended"]


def check_first_visit_day(first_visit: date, weekday: int) -> None:
    """The first visit is on the plan's day (the first month is prorated from it)."""
    if first_visit.weekday() != weekday:
        raise ValueError(
            f"first_visit {first_visit} is a {WEEKDAYS[first_visit.weekday()]}; the plan's day "
            f"is {WEEKDAYS[weekday]} (weekday {weekday})"
        )


class PlanVisit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    day: date
    status: Literal["scheduled", "skipped", "canceled"] = "scheduled"


class MaintenancePlan(BaseModel):
    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    tenant_id: str
    plan_id: str
    version: int = 0
    status: PlanStatus = "proposed"
    customer: Customer
    job_id: str | None = None
    weekday: int = Field(ge=0, le=6)
    technician_id: str
    monthly_price: Money
    first_visit: date
    tracking_ticket_id: str
    tech_ticket_id: str
    horizon_weeks: int = Field(HORIZON_WEEKS, ge=1, le=52)
    visits: tuple[PlanVisit, ...] = ()
    generated_through: date | None = None
    approved_at: datetime | None = None
    first_month: Decimal | None = None

    # -- proposing and deciding ---------------------------------------------------------------

    @classmethod
    def propose(
        cls,
        *,
        tenant_id: str,
        plan_id: str,
        customer: Customer,
        job_id: str | None,
        weekday: int,
        technician_id: str,
        monthly_price: Decimal,
        first_visit: date,
        tracking_ticket_id: str,
        tech_ticket_id: str,
        by: str,
    ) -> tuple[MaintenancePlan, list[EventData]]:
        plan = cls(
            tenant_id=tenant_id,
            plan_id=plan_id,
            customer=customer,
            job_id=job_id,
            weekday=weekday,
            technician_id=technician_id,
            monthly_price=monthly_price,
            first_visit=first_visit,
            tracking_ticket_id=tracking_ticket_id,
            tech_ticket_id=tech_ticket_id,
            visits=(PlanVisit(day=first_visit),),
            generated_through=first_visit,
        )
        events: list[EventData] = [
            contract.PlanProposed(
                plan_id=plan_id,
                customer=plan._customer(),
                job_id=job_id,
                weekday=weekday,
                technician_id=technician_id,
                monthly_price=monthly_price,
                first_visit=first_visit,
                tracking_ticket_id=tracking_ticket_id,
                tech_ticket_id=tech_ticket_id,
                by=by,
            )
        ]
        plan.version = len(events)
        return plan, events

    def approve(self, *, today: date, by: str, at: datetime) -> tuple[Proration, list[EventData]]:
        """The customer agreed: the plan starts on its first visit's week, its first month is
        prorated from that day, and its visits are generated ahead."""
        self._step("active")
        self.approved_at = at
        proration = prorate(self.monthly_price, self.first_visit, self.weekday)
        self.first_month = proration.amount
        events = self._recorded(
            contract.PlanApproved(
                plan_id=self.plan_id,
                customer=self._customer(),
                job_id=self.job_id,
                tech_ticket_id=self.tech_ticket_id,
                monthly_price=self.monthly_price,
                starts_on=self.first_visit,
                first_month=proration.month,
                first_month_amount=proration.amount,
                first_month_visits=proration.label,
                by=by,
            )
        )
        return proration, events + self.fill_horizon(today)

    def decline(self, *, by: str) -> list[EventData]:
        self._step("declined")
        return self._changed("declined", by=by) + self._cancel_from(self.first_visit)

    # -- the rolling horizon -----------------------------------------------------------------

    def fill_horizon(self, today: date) -> list[EventData]:
        """Generate the visits through ``horizon_weeks`` after ``today`` (an active plan only)."""
        if self.status != "active":
            return []
        through = today + timedelta(weeks=self.horizon_weeks)
        after = max(self.generated_through or self.first_visit, today - timedelta(days=1))
        day = after + timedelta(days=1 + (self.weekday - (after + timedelta(days=1)).weekday()) % 7)
        kept = {visit.day: visit for visit in self.visits}
        new = []
        while day <= through:
            # A day canceled before (a pause, a change of day) is visited again; a skipped one
            # stays skipped; one record per day.
            if day not in kept or kept[day].status == "canceled":
                new.append(day)
                kept[day] = PlanVisit(day=day)
            day += timedelta(weeks=1)
        self.generated_through = max(through, self.generated_through or through)
        if not new:
            return []
        self.visits = tuple(sorted(kept.values(), key=lambda visit: visit.day))
        return self._scheduled(new)

    @property
    def scheduled_days(self) -> list[date]:
        return [visit.day for visit in self.visits if visit.status == "scheduled"]

    # -- changes -------------------------------------------------------------------------------

    def pause(self, *, today: date, by: str) -> list[EventData]:
        """No visits from ``today`` on until resumed."""
        self._step("paused")
        return self._changed("paused", by=by, day=today) + self._cancel_from(today)

    def resume(self, *, today: date, by: str) -> list[EventData]:
        self._step("active")
        self.generated_through = today - timedelta(days=1)
        return self._changed("resumed", by=by, day=today) + self.fill_horizon(today)

    def skip(self, day: date, *, by: str) -> list[EventData]:
        if day not in self.scheduled_days:
            raise TicketRuleBroken(f"plan {self.plan_id} has no visit scheduled on {day}")
        self.visits = tuple(
            visit.model_copy(update={"status": "skipped"}) if visit.day == day else visit
            for visit in self.visits
        )
        return self._changed("visit_skipped", by=by, day=day) + self._scheduled([], [day])

    def change_day(self, weekday: int, *, today: date, by: str) -> list[EventData]:
        """Future visits move to ``weekday``; visits before ``today`` stay as they were."""
        if self.status not in ("active", "paused"):
            raise TicketRuleBroken(f"plan {self.plan_id} is {self.status}: its day cannot change")
        if weekday == self.weekday:
            raise TicketRuleBroken(f"plan {self.plan_id} is already on {WEEKDAYS[weekday]}s")
        self.weekday = weekday
        events = self._changed("day_changed", by=by, day=today) + self._cancel_from(today)
        self.generated_through = today - timedelta(days=1)
        return events + self.fill_horizon(today)

    def end(self, *, today: date, by: str) -> list[EventData]:
        self._step("ended")
        return self._changed("ended", by=by, day=today) + self._cancel_from(today)

    # -- helpers -------------------------------------------------------------------------------

    def _step(self, to: PlanStatus) -> None:
        if to not in PLAN_STEPS[self.status]:
            raise TicketRuleBroken(f"plan {self.plan_id} cannot go from {self.status} to {to}")
        self.status = to

    def _cancel_from(self, day: date) -> list[EventData]:
        canceled = [v.day for v in self.visits if v.status == "scheduled" and v.day >= day]
        if not canceled:
            return []
        self.visits = tuple(
            visit.model_copy(update={"status": "canceled"}) if visit.day in canceled else visit
            for visit in self.visits
        )
        return self._scheduled([], canceled)

    def _scheduled(
        self, scheduled: list[date], canceled: list[date] | None = None
    ) -> list[EventData]:
        return self._recorded(
            contract.PlanVisitsScheduled(
                plan_id=self.plan_id,
                tech_ticket_id=self.tech_ticket_id,
                technician_id=self.technician_id,
                scheduled=scheduled,
                canceled=canceled or [],
            )
        )

    def _changed(self, change: Change, *, by: str, day: date | None = None) -> list[EventData]:
        return self._recorded(
            contract.PlanChanged(
                plan_id=self.plan_id,
                change=change,
                status=self.status,
                weekday=self.weekday,
                day=day,
                by=by,
            )
        )

    def _recorded(self, event: EventData) -> list[EventData]:
        self.version += 1
        return [event]

    def _customer(self) -> contract.TicketCustomer:
        return contract.TicketCustomer(**self.customer.model_dump())
