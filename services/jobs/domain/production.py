"""The production workflow (seed 001): hand-off, scheduling, crew, work, completion (released
when billing reports the final payment: ``billing.py``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from services.jobs.domain.errors import JobRuleBroken
from services.jobs.domain.state import JobState
from services.jobs.domain.values import (
    Milestone,
    ProductionStatus,
)
from shared.contracts import jobs as events
from shared.contracts.base import EventData


class JobProduction(JobState):
    """Production, from the hand-off to the release."""

    # -- production -----------------------------------------------------------------------------

    def check_hand_off(self) -> None:
        """Raises unless the job can go to Production (checked before the policy is asked)."""
        self._require_open()
        if self.milestone != Milestone.APPROVED:
            raise JobRuleBroken(
                f"only an approved job goes to production (the job is {self.milestone.value})"
            )
        if self.handed_off_at is not None:
            raise JobRuleBroken("the job was already handed off to production")

    def hand_off(self, *, by: str, at: datetime, schedule_by: datetime | None) -> list[EventData]:
        """The CSA passes the approved file to Production."""
        self.check_hand_off()
        self.handed_off_at = at
        self.handed_off_by = by
        return self._changed(
            [
                events.HandedOffToProduction(
                    job_id=self.job_id,
                    job_number=self.job_number,
                    by=by,
                    trades=list(self.trades),
                    schedule_by=schedule_by,
                )
            ]
        )

    def schedule(
        self,
        *,
        start_date: date,
        duration_days: int,
        by: str,
        at: datetime,
        complexity: int | None = None,
    ) -> list[EventData]:
        """Set (or move) the installation dates. Moving them releases the crew: its days were
        for the old dates, and its room on the new ones is checked when it is assigned again."""
        if self.handed_off_at is None:
            raise JobRuleBroken("the job has not been handed off to production yet")
        self._require_production(
            ProductionStatus.SOLD,
            ProductionStatus.MEASURED,
            ProductionStatus.ORDERED,
            ProductionStatus.SCHEDULED,
            doing="schedule",
        )
        moved = (self.scheduling.start_date, self.scheduling.duration_days) != (
            start_date,
            duration_days,
        )
        self.scheduling = self.scheduling.model_copy(
            update={
                "start_date": start_date,
                "duration_days": duration_days,
                "complexity": complexity or self.scheduling.complexity,
            }
        )
        if moved and self.team.crew_id is not None:
            self.team = self.team.model_copy(update={"crew_id": None})
        recorded: list[EventData] = [
            events.JobScheduled(
                job_id=self.job_id,
                start_date=start_date,
                duration_days=duration_days,
                crew_id=self.team.crew_id,
            )
        ]
        if self.production_status != ProductionStatus.SCHEDULED:
            recorded += self._set_production(ProductionStatus.SCHEDULED, by=by, at=at)
        return self._changed(recorded)

    @property
    def work_days(self) -> list[date]:
        """The calendar days the crew is on the job (from the start date, for the duration)."""
        start, days = self.scheduling.start_date, self.scheduling.duration_days
        if start is None or days is None:
            return []
        return [start + timedelta(days=offset) for offset in range(days)]

    def check_assign_crew(self) -> None:
        self._require_open()
        if self.scheduling.start_date is None:
            raise JobRuleBroken("schedule the job before assigning a crew")

    def assign_crew(
        self, *, crew_id: str, crew_name: str, member_ids: list[str], by: str
    ) -> list[EventData]:
        self.check_assign_crew()
        self.team = self.team.model_copy(update={"crew_id": crew_id})
        return self._changed(
            [
                events.CrewAssigned(
                    job_id=self.job_id,
                    crew_id=crew_id,
                    crew_name=crew_name,
                    member_ids=member_ids,
                    days=self.work_days,
                    customer=self.contact(),
                )
            ]
        )

    def start_work(self, *, by: str, at: datetime) -> list[EventData]:
        self._require_production(ProductionStatus.SCHEDULED, doing="start work")
        return self._changed(self._set_production(ProductionStatus.IN_PROGRESS, by=by, at=at))

    def check_complete(self) -> None:
        self._require_production(ProductionStatus.IN_PROGRESS, doing="complete the work")

    def complete_production(self, *, by: str, at: datetime) -> list[EventData]:
        self.check_complete()
        self.scheduling = self.scheduling.model_copy(update={"completion_date": at.date()})
        recorded = self._set_production(ProductionStatus.COMPLETE, by=by, at=at)
        if self.final_payment_received_at is not None:
            recorded += self._set_production(
                ProductionStatus.RELEASED, by=by, at=at, reason="final payment received"
            )
        return self._changed(recorded)
