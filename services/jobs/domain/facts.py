"""The facts the jobs service gives the policy layer, built from a job (pure)."""

from __future__ import annotations

from collections.abc import Iterable

from services.jobs.domain.crews import Crew
from services.jobs.domain.job import Job
from services.jobs.domain.values import Milestone
from shared.contracts import billing as billing_contracts
from shared.contracts import jobs as dp
from shared.contracts.roles import Actor


def job_state(job: Job) -> dp.JobState:
    return dp.JobState(
        milestone=job.milestone.value,
        assigned=job.assigned,
        trades=list(job.trades),
        complexity=job.scheduling.complexity,
        production_status=job.production_status.value if job.production_status else None,
    )


def change_job(
    job: Job,
    roles: Iterable[str],
    command: str,
    *,
    to_milestone: Milestone | None = None,
    reason: str | None = None,
) -> dp.ChangeJobFacts:
    return dp.ChangeJobFacts(
        actor=Actor(roles=sorted(roles)),
        job=job_state(job),
        change=dp.JobChange(
            command=command,
            to_milestone=to_milestone.value if to_milestone else None,
            direction=job.direction_to(to_milestone) if to_milestone else None,
            reason=reason,
        ),
        billing=dp.JobBilling(
            final_payment_received=job.final_payment_received,
            costs_settled=job.billing.costs_settled,
        ),
    )


def photos(job: Job) -> dp.Photos:
    """Photo counts per checklist; the Post Roof Inspection ones also by who uploaded them (the
    roles the uploader held then), for the rules that say whose photos count."""
    return dp.Photos(
        property=job.photos("property"),
        colour=job.photos("colour"),
        post_roof_inspection=job.photos("post_roof_inspection"),
        post_roof_inspection_by=dp.PhotosByRole(
            **{
                role: job.photos("post_roof_inspection", uploaded_by_role=role)
                for role in dp.PhotosByRole.model_fields
            }
        ),
    )


def submit_to_production(job: Job) -> dp.SubmitToProductionFacts:
    materials = job.materials
    return dp.SubmitToProductionFacts(
        job=job_state(job),
        contract=dp.Contract(signed=job.financials.contract_signed_on is not None),
        materials=dp.Materials(
            manufacturer=materials.manufacturer,
            product=materials.product,
            colour=materials.colour,
            quantity_squares=materials.quantity_squares,
            supplier=materials.supplier,
            colour_confirmed=materials.colour_confirmed,
        ),
        measurements=dp.Measurements(roof_squares=job.measurements.roof_squares),
        photos=photos(job),
    )


def complete_job(job: Job, roles: Iterable[str]) -> dp.CompleteJobFacts:
    return dp.CompleteJobFacts(
        actor=Actor(roles=sorted(roles)), job=job_state(job), photos=photos(job)
    )


def create_record(job: Job) -> billing_contracts.CreateRecordFacts:
    return billing_contracts.CreateRecordFacts(
        record=billing_contracts.AccountingRecord(
            kind="job", line_items=len(job.line_items), total=job.line_items_total
        )
    )


def assign_crew(
    job: Job, crew: Crew, roles: Iterable[str], busiest_day_bookings: int
) -> dp.AssignCrewFacts:
    complexity = job.scheduling.complexity
    return dp.AssignCrewFacts(
        actor=Actor(roles=sorted(roles)),
        job=job_state(job),
        crew=dp.CrewFacts(
            trades=list(crew.trades),
            covers_job_trades=crew.covers(job.trades),
            handles_complexity=complexity is None or crew.max_complexity >= complexity,
            daily_capacity=crew.daily_capacity,
            busiest_day_bookings=busiest_day_bookings,
            room_on_busiest_day=crew.daily_capacity - busiest_day_bookings,
        ),
    )
