"""Jobs HTTP routes: parse and authorize, call a handler, map the result.

Commands are POSTs on the job; queries are GETs. A policy refusal is ``409`` with
``urn:roofline:problem:policy-denied``, naming every rule that refused and what is missing; a
command the job's state does not allow is ``409`` ``conflict``; another tenant's job (or, for an
installer, a job their crew is not on) is ``404``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Collection
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request

from services.jobs.api.models import (
    AssignCrew,
    AssignTeam,
    BoardColumn,
    CalendarEntry,
    Cancel,
    CrewSuggestionView,
    DeadlineView,
    DecideApproval,
    JobSearchText,
    JobView,
    MoveMilestone,
    NewChangeOrder,
    NewCrew,
    NewDocument,
    NewLineItem,
    PipelineBoard,
    ProductionBoard,
    RecordPermit,
    RequestApproval,
    ScheduleJob,
    SignContract,
)
from services.jobs.domain import Crew, Job, JobRuleBroken
from services.jobs.domain.values import (
    ChangeOrder,
    Document,
    Inspection,
    InsuranceClaim,
    LineItem,
    Materials,
    Measurements,
)
from services.jobs.handlers import file, pipeline, production, queries
from services.jobs.handlers.pipeline import CreateLead
from services.jobs.ports import JobsDeps
from shared.contracts.roles import FIELD_ROLES, OFFICE_ROLES, ROLES
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller
from shared.platform.http.edge import Limit, Offset
from shared.platform.http.problems import Conflict
from shared.platform.http.provided import Provided
from shared.platform.text import Day

T = TypeVar("T")

# What the routes are given by the composition root (services/jobs/app.py).
jobs_deps = Provided[JobsDeps]("jobs dependencies")

LEAD_TAKERS = ("sales", "csa", "project_manager", "production_manager")
PIPELINE_MOVERS = ("sales", "csa", "production_manager", "project_manager")
APPROVERS = ("csa", "production_manager")
FILE_EDITORS = (
    "sales",
    "csa",
    "production",
    "production_manager",
    "project_manager",
    "trade_manager",
)
PRODUCTION = ("production", "production_manager", "trade_manager")
FIELD = tuple(sorted(FIELD_ROLES))
OFFICE = OFFICE_ROLES

# The authenticated caller; which roles may call a route is the ACCESS table's business.
AnyCaller = Annotated[Caller, Depends(current_caller)]

# Who may call each route (admin always may); the policy layer decides the business rules
# within. Installers and technicians see only jobs their crew is on.
ACCESS: dict[str, Collection[str]] = {
    "create_lead": LEAD_TAKERS,
    "assign": APPROVERS,
    "move_milestone": PIPELINE_MOVERS,
    "request_approval": PIPELINE_MOVERS,
    "decide_approval": PIPELINE_MOVERS,
    "cancel": PIPELINE_MOVERS,
    "sign_contract": FILE_EDITORS,
    "add_line_item": FILE_EDITORS,
    "complete_line_item": FILE_EDITORS,
    "record_measurements": FILE_EDITORS,
    "record_materials": FILE_EDITORS,
    "record_insurance": FILE_EDITORS,
    "add_document": (*FILE_EDITORS, *FIELD),
    "add_change_order": FILE_EDITORS,
    "record_permit": FILE_EDITORS,
    "record_inspection": FILE_EDITORS,
    "hand_off": ("csa",),
    "schedule": PRODUCTION,
    "assign_crew": PRODUCTION,
    "start_work": (*PRODUCTION, "project_manager", *FIELD),
    "complete": ("csa", *PRODUCTION, "project_manager"),
    "crew_suggestions": PRODUCTION,
    "add_crew": ("production_manager", "trade_manager"),
    "list_crews": OFFICE,
    "search": ROLES,
    "deadlines": OFFICE,
    "read_job": ROLES,
    "audit": OFFICE,
    "pipeline_board": OFFICE,
    "production_board": OFFICE,
    "calendar": OFFICE,
}


async def _conflicts(call: Awaitable[T]) -> T:
    """The job's own structure refused the command: 409 with the reason."""
    try:
        return await call
    except JobRuleBroken as exc:
        raise Conflict(str(exc)) from exc


def _source(request: Request) -> str:
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


def router(deps: JobsDeps) -> APIRouter:
    routes = GuardedRouter(ACCESS, tags=["jobs"])

    async def respond(command_call: Awaitable[Job], caller: Caller) -> JobView:
        """Run a command (the job's state refusing it is a 409) and answer with the job it left,
        and which services have answered the lead."""
        changed = await _conflicts(command_call)
        return JobView.of(changed, await queries.acknowledgements(deps, caller, changed.job_id))

    # -- leads and the pipeline -------------------------------------------------------------------

    @routes.post("/jobs", status_code=201, response_model=JobView)
    async def create_lead(body: CreateLead, caller: AnyCaller) -> JobView:
        """Create a lead (customer, property, trades). A Sales user's lead is assigned to them."""
        return JobView.of(await pipeline.create_lead(deps, caller, body), {})  # none answered yet

    @routes.post("/jobs/{job_id}/assign", response_model=JobView)
    async def assign(job_id: str, body: AssignTeam, request: Request, caller: AnyCaller) -> JobView:
        """Assign the lead to a sales rep (it enters the pipeline); the CSA and managers."""
        people = body.model_dump(exclude_none=True)
        return await respond(
            pipeline.assign_team(deps, caller, job_id, people, source=_source(request)), caller
        )

    @routes.post("/jobs/{job_id}/milestone", response_model=JobView)
    async def move_milestone(
        job_id: str,
        body: MoveMilestone,
        request: Request,
        caller: AnyCaller,
    ) -> JobView:
        """Move the job to another milestone (policy milestone_moves decides who may)."""
        return await respond(
            pipeline.move_milestone(
                deps, caller, job_id, body.to, reason=body.reason, source=_source(request)
            ),
            caller,
        )

    @routes.post("/jobs/{job_id}/approval-requests", response_model=JobView, status_code=201)
    async def request_approval(
        job_id: str,
        body: RequestApproval,
        request: Request,
        caller: AnyCaller,
    ) -> JobView:
        """A Sales user submits the job for approval to move it to Approved (or beyond)."""
        return await respond(
            pipeline.request_approval(
                deps, caller, job_id, body.to, body.note, source=_source(request)
            ),
            caller,
        )

    @routes.post("/jobs/{job_id}/approval-requests/{request_id}/decision", response_model=JobView)
    async def decide_approval(
        job_id: str,
        request_id: str,
        body: DecideApproval,
        request: Request,
        caller: AnyCaller,
    ) -> JobView:
        """A CSA, production manager or admin approves (the move happens) or rejects it."""
        return await respond(
            pipeline.decide_approval(
                deps,
                caller,
                job_id,
                request_id,
                approve=body.approve,
                note=body.note,
                source=_source(request),
            ),
            caller,
        )

    @routes.post("/jobs/{job_id}/cancel", response_model=JobView)
    async def cancel(job_id: str, body: Cancel, request: Request, caller: AnyCaller) -> JobView:
        """Mark the job Canceled/Dead, with the reason (it is kept, never deleted)."""
        return await respond(
            pipeline.cancel(deps, caller, job_id, body.reason, source=_source(request)), caller
        )

    # -- the file ---------------------------------------------------------------------------------

    @routes.post("/jobs/{job_id}/contract", response_model=JobView)
    async def sign_contract(
        job_id: str, body: SignContract, request: Request, caller: AnyCaller
    ) -> JobView:
        return await respond(
            file.sign_contract(deps, caller, job_id, body, source=_source(request)), caller
        )

    @routes.post("/jobs/{job_id}/line-items", response_model=JobView, status_code=201)
    async def add_line_item(
        job_id: str, body: NewLineItem, request: Request, caller: AnyCaller
    ) -> JobView:
        item = LineItem(**body.model_dump())
        return await respond(
            file.add_line_item(deps, caller, job_id, item, source=_source(request)), caller
        )

    @routes.post("/jobs/{job_id}/line-items/{line_item_id}/complete", response_model=JobView)
    async def complete_line_item(
        job_id: str, line_item_id: str, request: Request, caller: AnyCaller
    ) -> JobView:
        return await respond(
            file.complete_line_item(deps, caller, job_id, line_item_id, source=_source(request)),
            caller,
        )

    @routes.post("/jobs/{job_id}/measurements", response_model=JobView)
    async def record_measurements(
        job_id: str, body: Measurements, request: Request, caller: AnyCaller
    ) -> JobView:
        return await respond(
            file.record_measurements(deps, caller, job_id, body, source=_source(request)), caller
        )

    @routes.post("/jobs/{job_id}/materials", response_model=JobView)
    async def record_materials(
        job_id: str, body: Materials, request: Request, caller: AnyCaller
    ) -> JobView:
        """The material specification, colour confirmation, order and delivery."""
        return await respond(
            file.record_materials(deps, caller, job_id, body, source=_source(request)), caller
        )

    @routes.post("/jobs/{job_id}/insurance", response_model=JobView)
    async def record_insurance(
        job_id: str, body: InsuranceClaim, request: Request, caller: AnyCaller
    ) -> JobView:
        return await respond(
            file.record_insurance(deps, caller, job_id, body, source=_source(request)), caller
        )

    @routes.post("/jobs/{job_id}/documents", response_model=JobView, status_code=201)
    async def add_document(
        job_id: str,
        body: NewDocument,
        request: Request,
        caller: AnyCaller,
    ) -> JobView:
        """Document or photo metadata (the file itself lives where ``location`` says)."""
        document = Document(
            **body.model_dump(), uploaded_by=caller.user_id, uploaded_at=deps.clock()
        )
        return await respond(
            file.add_document(deps, caller, job_id, document, source=_source(request)), caller
        )

    @routes.post("/jobs/{job_id}/change-orders", response_model=JobView, status_code=201)
    async def add_change_order(
        job_id: str, body: NewChangeOrder, request: Request, caller: AnyCaller
    ) -> JobView:
        """Signed scope change (positive or negative): changes the contract price, audited."""
        change_order = ChangeOrder(**body.model_dump(), by=caller.user_id)
        return await respond(
            file.add_change_order(deps, caller, job_id, change_order, source=_source(request)),
            caller,
        )

    @routes.post("/jobs/{job_id}/permit", response_model=JobView)
    async def record_permit(
        job_id: str, body: RecordPermit, request: Request, caller: AnyCaller
    ) -> JobView:
        return await respond(
            file.record_permit(
                deps,
                caller,
                job_id,
                body.permit_status,
                body.permit_number,
                source=_source(request),
            ),
            caller,
        )

    @routes.post("/jobs/{job_id}/inspections", response_model=JobView, status_code=201)
    async def record_inspection(
        job_id: str, body: Inspection, request: Request, caller: AnyCaller
    ) -> JobView:
        """Framing, footer or final inspection; a failed one puts the job back to In Progress."""
        return await respond(
            file.record_inspection(deps, caller, job_id, body, source=_source(request)), caller
        )

    # -- production -------------------------------------------------------------------------------

    @routes.post("/jobs/{job_id}/handoff", response_model=JobView)
    async def hand_off(job_id: str, request: Request, caller: AnyCaller) -> JobView:
        """The CSA passes the approved file to Production (policy production_handoff checks it
        is complete; production_schedule sets the scheduling deadline)."""
        return await respond(
            production.hand_off(deps, caller, job_id, source=_source(request)), caller
        )

    @routes.post("/jobs/{job_id}/schedule", response_model=JobView)
    async def schedule(
        job_id: str, body: ScheduleJob, request: Request, caller: AnyCaller
    ) -> JobView:
        return await respond(
            production.schedule(
                deps,
                caller,
                job_id,
                start_date=body.start_date,
                duration_days=body.duration_days,
                complexity=body.complexity,
                source=_source(request),
            ),
            caller,
        )

    @routes.post("/jobs/{job_id}/crew", response_model=JobView)
    async def assign_crew(
        job_id: str, body: AssignCrew, request: Request, caller: AnyCaller
    ) -> JobView:
        return await respond(
            production.assign_crew(deps, caller, job_id, body.crew_id, source=_source(request)),
            caller,
        )

    @routes.post("/jobs/{job_id}/start", response_model=JobView)
    async def start_work(
        job_id: str,
        request: Request,
        caller: AnyCaller,
    ) -> JobView:
        return await respond(
            production.start_work(deps, caller, job_id, source=_source(request)), caller
        )

    @routes.post("/jobs/{job_id}/complete", response_model=JobView)
    async def complete(
        job_id: str,
        request: Request,
        caller: AnyCaller,
    ) -> JobView:
        """Confirm the work complete (policy completion: the Post Roof Inspection photos, and a
        CSA's confirmation)."""
        return await respond(
            production.complete(deps, caller, job_id, source=_source(request)), caller
        )

    @routes.get("/jobs/{job_id}/crew-suggestions", response_model=list[CrewSuggestionView])
    async def crew_suggestions(job_id: str, caller: AnyCaller) -> list[CrewSuggestionView]:
        """Crews ranked by trade match, complexity and distance from the property."""
        return [
            CrewSuggestionView.of(s)
            for s in await production.crew_suggestions(deps, caller, job_id)
        ]

    @routes.post("/crews", response_model=Crew, status_code=201)
    async def add_crew(body: NewCrew, caller: AnyCaller) -> Crew:
        crew = Crew(tenant_id=caller.tenant_id, **body.model_dump())
        return await production.add_crew(deps, caller, crew)

    @routes.get("/crews", response_model=list[Crew])
    async def list_crews(caller: AnyCaller) -> list[Crew]:
        return await queries.crews(deps, caller)

    # -- queries ----------------------------------------------------------------------------------

    @routes.get("/jobs", response_model=list[JobView])
    async def search(
        caller: AnyCaller,
        q: JobSearchText = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[JobView]:
        found = await queries.search(deps, caller, q, limit=limit, offset=offset)
        return [JobView.of(job, None) for job in found]

    @routes.get("/jobs/deadlines", response_model=list[DeadlineView])
    async def deadlines(
        caller: AnyCaller,
        within_days: Annotated[int, Query(ge=0, le=60)] = 2,
    ) -> list[DeadlineView]:
        """Jobs whose scheduling deadline is within ``within_days`` or already past."""
        rows = await queries.deadlines(deps, caller, timedelta(days=within_days))
        return [DeadlineView(**row) for row in rows]

    @routes.get("/jobs/{job_id}", response_model=JobView)
    async def read_job(job_id: str, caller: AnyCaller) -> JobView:
        job, acknowledged = await queries.get_job(deps, caller, job_id)
        return JobView.of(job, acknowledged)

    @routes.get("/jobs/{job_id}/audit")
    async def audit(job_id: str, caller: AnyCaller) -> list[dict[str, Any]]:
        """Who changed what, when and why."""
        return await queries.audit_trail(deps, caller, job_id)

    @routes.get("/pipeline", response_model=PipelineBoard)
    async def pipeline_board(caller: AnyCaller) -> PipelineBoard:
        """Jobs per milestone with counts and contract totals; unassigned leads apart."""
        columns, unassigned = await queries.board(deps, caller, "milestone")
        return PipelineBoard(
            milestones=[
                BoardColumn(status=s, count=c, contract_total=t) for s, (c, t) in columns.items()
            ],
            unassigned_leads=unassigned,
        )

    @routes.get("/production", response_model=ProductionBoard)
    async def production_board(caller: AnyCaller) -> ProductionBoard:
        columns, _ = await queries.board(deps, caller, "production_status")
        return ProductionBoard(
            statuses=[
                BoardColumn(status=s, count=c, contract_total=t) for s, (c, t) in columns.items()
            ]
        )

    @routes.get("/schedule", response_model=list[CalendarEntry])
    async def calendar(
        start: Annotated[Day, Query(description="First day (YYYY-MM-DD).")],
        end: Annotated[Day, Query(description="Last day, included.")],
        caller: AnyCaller,
    ) -> list[CalendarEntry]:
        """The schedule calendar: each day's bookings by crew."""
        entries = await queries.calendar(deps, caller, start, end)
        return [
            CalendarEntry(
                day=day,
                crew_id=crew_id,
                crew_name=crew.name if crew else None,
                job_id=job_id,
                job_number=job.job_number if job else None,
                customer_name=job.customer.name if job else None,
            )
            for day, crew, job, crew_id, job_id in entries
        ]

    return routes
