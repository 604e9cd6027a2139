"""Jobs handlers against fakes (in-memory unit of work; the real policy engine over the shipped
rules with an in-memory decision log): what a refusal looks like, and that it changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.jobs.domain import (
    Crew,
    Job,
    JobNotFound,
    JobRuleBroken,
    Milestone,
    ProductionStatus,
    facts,
)
from services.jobs.domain.commands import (
    AddDocument,
    AddLineItem,
    AssignCrew,
    AssignTeam,
    Cancel,
    CompleteJob,
    CreateLead,
    DecideApproval,
    HandOff,
    MoveMilestone,
    RecordMaterials,
    RecordMeasurements,
    RequestApproval,
    ScheduleJob,
    SignContract,
    StartWork,
)
from services.jobs.domain.values import (
    Address,
    Customer,
    Document,
    LineItem,
    Materials,
    Measurements,
)
from services.jobs.handlers import file, pipeline, production, queries
from shared.contracts import jobs as events
from shared.platform.http.auth import Caller
from shared.policy.service import PolicyRefused
from tests.unit.jobs.fakes import fake_deps

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def caller(*roles: str, user: str = "u1", tenant: str = "acme") -> Caller:
    return Caller(user_id=user, tenant_id=tenant, roles=frozenset(roles))


SALES, CSA, ADMIN = (
    caller("sales", user="sam"),
    caller("csa", user="ann"),
    caller("admin", user="boss"),
)
PM = caller("production_manager", user="pat")
PROJECT_MANAGER = caller("project_manager", user="pete")
INSTALLER = caller("installer", user="ivan")


@pytest.fixture
def env():
    return fake_deps(NOW)


async def lead(deps, trades=None) -> str:
    job = await pipeline.create_lead(
        deps,
        SALES,
        CreateLead(
            customer=Customer(name="Dana Reyes"), address=Address(line="12 Elm St"), trades=trades
        ),
    )
    return job.job_id


async def sold(deps, trades=None) -> str:
    job_id = await lead(deps, trades)
    await file.add_line_item(
        deps,
        CSA,
        AddLineItem(job_id=job_id, item=LineItem(description="Roof", unit_price=Decimal("9000"))),
    )
    await file.sign_contract(deps, CSA, _contract(job_id))
    await pipeline.move_milestone(deps, CSA, MoveMilestone(job_id=job_id, to=Milestone.APPROVED))
    return job_id


def _contract(job_id: str) -> SignContract:
    return SignContract(
        job_id=job_id, signed_on=date(2026, 11, 20), contract_price=Decimal("12500.00")
    )


async def complete_file(deps, job_id: str, *, metal: bool = False) -> None:
    await file.record_materials(
        deps,
        CSA,
        RecordMaterials(
            job_id=job_id,
            materials=Materials(
                manufacturer="GAF",
                product="HDZ",
                colour="Charcoal",
                quantity_squares=Decimal("32"),
                supplier="ABC Supply",
                colour_confirmed=metal,
            ),
        ),
    )
    await file.record_measurements(
        deps,
        CSA,
        RecordMeasurements(job_id=job_id, measurements=Measurements(roof_squares=Decimal("31"))),
    )
    for checklist in ("property", "colour") if metal else ("property",):
        await file.add_document(
            deps,
            CSA,
            AddDocument(
                job_id=job_id,
                document=Document(
                    type="photo",
                    checklist=checklist,
                    uploaded_by="ann",
                    uploaded_at=NOW,
                    location="s3://p.jpg",
                ),
            ),
        )


async def test_an_incomplete_handoff_is_refused_with_everything_missing_and_changes_nothing(
    env,
) -> None:
    deps, store, policy = env
    job_id = await sold(deps)
    before = store.jobs[("acme", job_id)].model_copy(deep=True)
    with pytest.raises(PolicyRefused) as refused:
        await production.hand_off(deps, CSA, HandOff(job_id=job_id))
    body = refused.value.extensions
    assert body["outcome"] == "require"
    assert body["missing"] == [
        "material manufacturer",
        "material product line",
        "material colour",
        "material quantity (squares)",
        "material supplier",
        "measurements",
        "property photos (at least 1)",
    ]
    assert {rule["policy"] for rule in body["rules"]} == {"production_handoff"}
    assert store.jobs[("acme", job_id)] == before
    assert policy.log[-1].decision_point == "jobs.submit_to_production"  # the refusal is logged
    assert (
        deps.metrics.handoffs_denied.labels("production_handoff", "measurements-taken")._value.get()
        == 1
    )

    await complete_file(deps, job_id)
    job = await production.hand_off(deps, CSA, HandOff(job_id=job_id))
    assert job.handed_off_at == NOW
    handed = [e for _, _, e in store.events if isinstance(e, events.HandedOffToProduction)]
    assert handed[0].schedule_by is not None and job_id in policy.deadlines


async def test_scheduling_meets_the_deadline(env) -> None:
    deps, _, policy = env
    job_id = await sold(deps)
    await complete_file(deps, job_id)
    await production.hand_off(deps, CSA, HandOff(job_id=job_id))
    job = await production.schedule(
        deps, PM, ScheduleJob(job_id=job_id, start_date=date(2026, 11, 30), duration_days=2)
    )
    assert job.production_status == ProductionStatus.SCHEDULED
    assert (job_id, "met") in policy.met and job_id not in policy.deadlines


async def test_a_sales_user_needs_an_approval_and_a_csa_gives_it(env) -> None:
    deps, store, _ = env
    job_id = await lead(deps)
    await file.add_line_item(
        deps, SALES, AddLineItem(job_id=job_id, item=LineItem(description="Roof"))
    )
    with pytest.raises(PolicyRefused) as refused:
        await pipeline.move_milestone(
            deps, SALES, MoveMilestone(job_id=job_id, to=Milestone.APPROVED)
        )
    assert refused.value.extensions["missing"] == ["approval by a CSA, production manager or admin"]

    job = await pipeline.request_approval(
        deps, SALES, RequestApproval(job_id=job_id, to=Milestone.APPROVED, note="signed today")
    )
    request_id = job.approval_requests[0].request_id
    job = await pipeline.decide_approval(
        deps, CSA, DecideApproval(job_id=job_id, request_id=request_id, approve=True, note="ok")
    )
    assert job.milestone == Milestone.APPROVED and job.job_number == "2026-0001"
    kinds = [type(e).__name__ for _, _, e in store.events if getattr(e, "job_id", None) == job_id]
    assert kinds[-4:] == [
        "ApprovalDecided",
        "MilestoneChanged",
        "ProductionStatusChanged",
        "JobSold",
    ]
    sequences = [seq for jid, seq, _ in store.events if jid == job_id]
    assert sequences == list(range(1, len(sequences) + 1))  # per-job sequence, no gaps


async def test_a_job_is_never_sold_without_a_line_item(env) -> None:
    deps, _, _ = env
    job_id = await lead(deps)
    with pytest.raises(PolicyRefused) as refused:
        await pipeline.move_milestone(
            deps, CSA, MoveMilestone(job_id=job_id, to=Milestone.APPROVED)
        )
    body = refused.value.extensions
    assert body["rules"][0]["rule"] == "at-least-one-line-item"
    assert body["outcome"] == "deny" and body["missing"] == ["line item"]  # what is missing


async def test_a_sale_needs_a_line_item_when_requested_and_when_approved(env) -> None:
    deps, store, _ = env
    job_id = await lead(deps)
    with pytest.raises(PolicyRefused) as refused:
        await pipeline.request_approval(
            deps, SALES, RequestApproval(job_id=job_id, to=Milestone.APPROVED)
        )
    assert refused.value.extensions["missing"] == ["line item"]
    assert store.jobs[("acme", job_id)].approval_requests == []

    await file.add_line_item(
        deps, SALES, AddLineItem(job_id=job_id, item=LineItem(description="Roof"))
    )
    job = await pipeline.request_approval(
        deps, SALES, RequestApproval(job_id=job_id, to=Milestone.APPROVED)
    )
    request_id = job.approval_requests[0].request_id
    store.jobs[("acme", job_id)].line_items = []  # the job changed before the approval
    with pytest.raises(PolicyRefused) as refused:
        await pipeline.decide_approval(
            deps, CSA, DecideApproval(job_id=job_id, request_id=request_id, approve=True)
        )
    assert refused.value.extensions["missing"] == ["line item"]
    job = store.jobs[("acme", job_id)]
    assert job.milestone == Milestone.LEAD and job.job_number is None
    assert job.approval_requests[0].status == "pending"


async def test_every_path_to_a_milestone_keeps_an_unassigned_lead_out(env) -> None:
    """Seed 004: a lead enters the pipeline only once assigned, whether it is moved directly,
    submitted for approval, or approved (checked again then: the job may have changed)."""
    deps, store, _ = env
    job_id = (
        await pipeline.create_lead(
            deps, CSA, CreateLead(customer=Customer(name="X"), address=Address(line="Y"))
        )
    ).job_id
    await file.add_line_item(
        deps, CSA, AddLineItem(job_id=job_id, item=LineItem(description="Roof"))
    )
    refusals = [
        pipeline.move_milestone(deps, CSA, MoveMilestone(job_id=job_id, to=Milestone.APPROVED)),
        pipeline.request_approval(
            deps, SALES, RequestApproval(job_id=job_id, to=Milestone.APPROVED)
        ),
        pipeline.request_approval(
            deps, SALES, RequestApproval(job_id=job_id, to=Milestone.PROSPECT)
        ),
    ]
    for attempt in refusals:
        with pytest.raises(PolicyRefused) as refused:
            await attempt
        body = refused.value.extensions
        assert [rule["rule"] for rule in body["rules"]] == ["unassigned-lead-stays-out"]
        assert body["missing"] == ["assignment to a user"]

    # Assigned, the request goes in; unassigned again before the approval, it is refused then.
    await pipeline.assign_team(deps, CSA, AssignTeam(job_id=job_id, sales_rep_id="sam"))
    job = await pipeline.request_approval(
        deps, SALES, RequestApproval(job_id=job_id, to=Milestone.APPROVED)
    )
    request_id = job.approval_requests[0].request_id
    stored = store.jobs[("acme", job_id)]
    stored.team = stored.team.model_copy(update={"sales_rep_id": None})
    with pytest.raises(PolicyRefused, match="assign it to a user first"):
        await pipeline.decide_approval(
            deps, CSA, DecideApproval(job_id=job_id, request_id=request_id, approve=True)
        )
    assert store.jobs[("acme", job_id)].milestone == Milestone.LEAD
    # Rejecting the request moves nothing, so it is not refused.
    job = await pipeline.decide_approval(
        deps,
        CSA,
        DecideApproval(job_id=job_id, request_id=request_id, approve=False, note="assign it first"),
    )
    assert job.milestone == Milestone.LEAD and job.approval_requests[0].status == "rejected"


async def test_an_unassigned_lead_stays_out_of_the_pipeline(env) -> None:
    deps, _, _ = env
    job = await pipeline.create_lead(
        deps, CSA, CreateLead(customer=Customer(name="X"), address=Address(line="Y"))
    )
    assert not job.assigned
    with pytest.raises(PolicyRefused, match="assign it to a user first"):
        await pipeline.move_milestone(
            deps, CSA, MoveMilestone(job_id=job.job_id, to=Milestone.PROSPECT)
        )
    await pipeline.assign_team(deps, CSA, AssignTeam(job_id=job.job_id, sales_rep_id="sam"))
    moved = await pipeline.move_milestone(
        deps, CSA, MoveMilestone(job_id=job.job_id, to=Milestone.PROSPECT)
    )
    assert moved.milestone == Milestone.PROSPECT


async def test_a_closed_job_refuses_every_change(env) -> None:
    deps, store, _ = env
    job_id = await lead(deps)
    await pipeline.cancel(deps, CSA, Cancel(job_id=job_id, reason="duplicate"))
    job = store.jobs[("acme", job_id)]
    job.milestone = Milestone.CLOSED  # a closed job, as if it had gone the whole way
    with pytest.raises(PolicyRefused, match="Closed and can no longer be edited"):
        await file.add_line_item(
            deps, ADMIN, AddLineItem(job_id=job_id, item=LineItem(description="late"))
        )


async def test_crews_over_capacity_and_special_trades(env) -> None:
    deps, _, _ = env
    crew = await production.add_crew(
        deps,
        PM,
        Crew(
            tenant_id="acme",
            name="Alpha",
            trades=["roofing", "metal"],
            home_latitude=39.8,
            home_longitude=-89.6,
            daily_capacity=1,
            member_ids=["ivan"],
        ),
    )
    first, second = await sold(deps), await sold(deps)
    for job_id in (first, second):
        await complete_file(deps, job_id)
        await production.hand_off(deps, CSA, HandOff(job_id=job_id))
        await production.schedule(
            deps, PM, ScheduleJob(job_id=job_id, start_date=date(2026, 12, 1), duration_days=1)
        )
    await production.assign_crew(deps, PM, AssignCrew(job_id=first, crew_id=crew.crew_id))
    with pytest.raises(PolicyRefused, match="The crew is full"):
        await production.assign_crew(deps, PM, AssignCrew(job_id=second, crew_id=crew.crew_id))

    metal = await sold(deps, trades=["metal"])
    await complete_file(deps, metal, metal=True)
    await production.hand_off(deps, CSA, HandOff(job_id=metal))
    await production.schedule(
        deps, PM, ScheduleJob(job_id=metal, start_date=date(2026, 12, 8), duration_days=1)
    )
    with pytest.raises(PolicyRefused, match="assigned by the trade manager"):
        await production.assign_crew(deps, PM, AssignCrew(job_id=metal, crew_id=crew.crew_id))
    job = await production.assign_crew(
        deps, caller("trade_manager"), AssignCrew(job_id=metal, crew_id=crew.crew_id)
    )
    assert job.team.crew_id == crew.crew_id

    # The installer on that crew sees the job; another installer does not.
    ivan, olga = caller("installer", user="ivan"), caller("installer", user="olga")
    assert (await queries.get_job(deps, ivan, metal))[0].job_id == metal
    with pytest.raises(JobNotFound):
        await queries.get_job(deps, olga, metal)
    found = await queries.search(deps, ivan, None, limit=10, offset=0)
    assert {j.job_id for j in found} == {first, metal}  # not `second`: no crew of his


async def test_completion_needs_the_inspection_photos_and_a_csa(env) -> None:
    deps, _, policy = env
    job_id = await sold(deps)
    await complete_file(deps, job_id)
    await production.hand_off(deps, CSA, HandOff(job_id=job_id))
    await production.schedule(
        deps, PM, ScheduleJob(job_id=job_id, start_date=date(2026, 12, 1), duration_days=1)
    )
    crew = await production.add_crew(
        deps,
        PM,
        Crew(
            tenant_id="acme",
            name="Gamma",
            trades=["roofing"],
            home_latitude=0,
            home_longitude=0,
            member_ids=[INSTALLER.user_id],
        ),
    )
    await production.assign_crew(deps, PM, AssignCrew(job_id=job_id, crew_id=crew.crew_id))
    await production.start_work(deps, PM, StartWork(job_id=job_id))
    with pytest.raises(PolicyRefused) as refused:
        await production.complete(deps, CSA, CompleteJob(job_id=job_id))
    assert refused.value.extensions["missing"] == [
        "Post Roof Inspection photos from the project manager"
    ]
    # Seed 000: the project manager uploads them. Anyone else's (an installer's, the production
    # manager's) do not count, whatever the document claims about its uploader.
    for uploader in (INSTALLER, PM):
        job = await file.add_document(
            deps,
            uploader,
            AddDocument(job_id=job_id, document=_inspection_photo(uploaded_by="pete")),
        )
        assert job.documents[-1].uploaded_by == uploader.user_id
        assert job.documents[-1].uploaded_by_roles == sorted(uploader.roles)
        with pytest.raises(PolicyRefused) as refused:
            await production.complete(deps, CSA, CompleteJob(job_id=job_id))
        assert refused.value.extensions["missing"] == [
            "Post Roof Inspection photos from the project manager"
        ]
    facts_ = policy.log[-1].decision_point, job.photos("post_roof_inspection")
    assert facts_ == ("jobs.complete_job", 2)
    await file.add_document(
        deps, PROJECT_MANAGER, AddDocument(job_id=job_id, document=_inspection_photo())
    )
    job = await production.complete(deps, CSA, CompleteJob(job_id=job_id))
    assert job.production_status == ProductionStatus.COMPLETE


def _inspection_photo(uploaded_by: str = "someone") -> Document:
    return Document(
        type="photo",
        checklist="post_roof_inspection",
        uploaded_by=uploaded_by,
        uploaded_at=NOW,
        location="s3://pri.jpg",
    )


def test_the_facts_count_inspection_photos_by_the_roles_of_their_uploader(env) -> None:
    """A document stored before uploaders' roles were recorded still loads; its photo counts
    among the Post Roof Inspection photos, but under no role."""
    job, _ = Job.create_lead(
        tenant_id="acme",
        customer=Customer(name="Dana"),
        address=Address(line="12 Elm St"),
        by="sam",
        at=NOW,
        sales_rep_id="sam",
    )
    stored = job.model_dump(mode="json")
    old_document = _inspection_photo().model_dump(mode="json")
    del old_document["uploaded_by_roles"]
    new_document = _inspection_photo().model_dump(mode="json")
    new_document["uploaded_by_roles"] = ["installer", "project_manager"]
    stored["documents"] = [old_document, new_document]
    loaded = Job.model_validate(stored)
    assert loaded.documents[0].uploaded_by_roles == []
    photos = facts.photos(loaded)
    assert photos.post_roof_inspection == 2
    assert photos.post_roof_inspection_by.project_manager == 1
    assert photos.post_roof_inspection_by.installer == 1
    assert photos.post_roof_inspection_by.csa == 0


async def test_a_job_that_cannot_take_the_command_is_a_conflict_not_a_policy_matter(env) -> None:
    deps, _, policy = env
    job_id = await lead(deps)
    decisions = len(policy.log)
    with pytest.raises(JobRuleBroken, match="only an approved job goes to production"):
        await production.hand_off(deps, CSA, HandOff(job_id=job_id))
    assert len(policy.log) == decisions  # nothing was asked, nothing logged


async def test_only_approvers_decide_approval_requests(env) -> None:
    deps, _, _ = env
    job_id = await lead(deps)
    await file.add_line_item(
        deps, SALES, AddLineItem(job_id=job_id, item=LineItem(description="Roof"))
    )
    job = await pipeline.request_approval(
        deps, SALES, RequestApproval(job_id=job_id, to=Milestone.APPROVED)
    )
    request_id = job.approval_requests[0].request_id
    with pytest.raises(PolicyRefused, match="Only a CSA, production manager or admin"):
        await pipeline.decide_approval(
            deps, SALES, DecideApproval(job_id=job_id, request_id=request_id, approve=True)
        )


async def test_moving_dates_or_canceling_frees_the_crew(env) -> None:
    deps, store, policy = env
    crew = await production.add_crew(
        deps,
        PM,
        Crew(tenant_id="acme", name="Beta", trades=["roofing"], home_latitude=0, home_longitude=0),
    )
    job_id = await sold(deps)
    await complete_file(deps, job_id)
    await production.hand_off(deps, CSA, HandOff(job_id=job_id))
    await production.schedule(
        deps, PM, ScheduleJob(job_id=job_id, start_date=date(2026, 12, 1), duration_days=2)
    )
    await production.assign_crew(deps, PM, AssignCrew(job_id=job_id, crew_id=crew.crew_id))
    assert len(store.bookings) == 2
    job = await production.schedule(
        deps,
        PM,
        ScheduleJob(job_id=job_id, start_date=date(2026, 12, 8), duration_days=2, complexity=2),
    )
    assert job.team.crew_id is None and store.bookings == set()  # reassign for the new dates
    assert job.scheduling.complexity == 2
    await production.assign_crew(deps, PM, AssignCrew(job_id=job_id, crew_id=crew.crew_id))
    assert {day for _, _, day, _ in store.bookings} == {date(2026, 12, 8), date(2026, 12, 9)}
    await pipeline.cancel(deps, ADMIN, Cancel(job_id=job_id, reason="customer moved away"))
    assert store.bookings == set()
    assert (job_id, "canceled") in policy.met
