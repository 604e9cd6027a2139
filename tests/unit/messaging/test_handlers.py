"""The messaging handlers against the fakes (tests/unit/messaging/fakes.py): threads following
assignments, posting and reading with receipts, surveys scheduled by the policy and answered
once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.messaging.domain.directory import Person
from services.messaging.domain.surveys import InvalidAnswers, SurveyUnavailable
from services.messaging.domain.threads import InvalidReadTime, MarkRead, NewMessage, ThreadNotFound
from services.messaging.handlers import messages, surveys, work
from services.messaging.ports import MessagingDeps
from shared.contracts.jobs import CrewAssigned, CustomerContact, LeadCreated, MilestoneChanged
from shared.contracts.messaging import MessagePosted, MessagesRead, SurveyAnswered, ThreadOpened
from shared.contracts.tickets import (
    TicketAssignment,
    TicketCustomer,
    TicketOpened,
    TicketStatusChanged,
)
from shared.platform.http.auth import Caller
from shared.platform.messaging.envelope import Envelope, encode_event
from tests.unit.messaging.fakes import Clock, State, fake_deps

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
PAT = Caller(user_id="pat", tenant_id="acme", roles=frozenset({"production_manager"}))
IVAN = Caller(user_id="ivan", tenant_id="acme", roles=frozenset({"installer"}))
OLGA = Caller(user_id="olga", tenant_id="acme", roles=frozenset({"installer"}))
CUSTOMER = CustomerContact(name="Dana", email="dana@home.example", property_address="12 Elm St")


@pytest.fixture
def deps() -> tuple[MessagingDeps, State, Clock]:
    built, state, _, clock = fake_deps(NOW)
    return built, state, clock


def envelope(event: object, subject: str) -> Envelope:
    outgoing = encode_event(
        event,  # type: ignore[arg-type]
        source="jobs",
        subject=subject,
        tenant_id="acme",
        max_bytes=1_000_000,
    )
    return Envelope.from_bytes(outgoing.body, 1_000_000)


async def consume(deps: MessagingDeps, handle: object, event: object, subject: str) -> None:
    async with deps.unit_of_work("acme") as uow:
        await handle(uow, envelope(event, subject), event)  # type: ignore[operator]
        await uow.commit()


def lead(job_id: str = "job-1") -> LeadCreated:
    return LeadCreated(
        job_id=job_id,
        customer_name="Dana",
        email="dana@home.example",
        property_address="12 Elm St",
        salesman_id="sam",
    )


def crew(members: list[str], job_id: str = "job-1") -> CrewAssigned:
    return CrewAssigned(
        job_id=job_id,
        crew_id="crew-a",
        crew_name="Crew A",
        member_ids=members,
        days=[date(2026, 12, 8)],
        customer=CUSTOMER,
    )


async def job_thread(deps: MessagingDeps, members: list[str]) -> str:
    await consume(deps, work.on_lead, lead(), "job-1")
    await consume(deps, work.on_crew, crew(members), "job-1")
    view = await messages.thread_of(deps, PAT, "job", "job-1")
    return view.thread.thread_id


async def test_a_lead_opens_one_thread_and_says_so(
    deps: tuple[MessagingDeps, State, Clock],
) -> None:
    built, state, _ = deps
    await consume(built, work.on_lead, lead(), "job-1")
    await consume(built, work.on_lead, lead(), "job-1")  # a replay opens nothing more
    assert len(state.threads) == 1
    assert [type(e) for _, e in state.events] == [ThreadOpened]


async def test_the_crew_joins_is_told_and_loses_access_when_replaced(
    deps: tuple[MessagingDeps, State, Clock],
) -> None:
    built, state, _ = deps
    ivan = Person(user_id="ivan", name="Ivan", email="ivan@crew.example", roles=("installer",))
    async with built.unit_of_work("acme") as uow:
        await uow.repos.directory.put(ivan)
        await uow.commit()
    thread_id = await job_thread(built, ["ivan"])
    assert (await messages.thread(built, IVAN, thread_id)).thread.thread_id == thread_id
    assert [e.kind for e in state.feed[("acme", "ivan")]] == ["assigned"]
    ((email, status, _),) = state.emails.values()
    assert (email.to_address, email.kind, status) == ("ivan@crew.example", "assignment", "queued")

    await consume(built, work.on_crew, crew(["olga"]), "job-1")
    with pytest.raises(ThreadNotFound):
        await messages.thread(built, IVAN, thread_id)
    assert [e.kind for e in state.feed[("acme", "ivan")]] == ["assigned", "unassigned"]
    assert (await messages.thread(built, OLGA, thread_id)).thread.thread_id == thread_id


async def test_a_post_reaches_the_others_once_per_client_key(
    deps: tuple[MessagingDeps, State, Clock],
) -> None:
    built, state, _ = deps
    thread_id = await job_thread(built, ["ivan"])
    with pytest.raises(ThreadNotFound):
        await messages.post_message(built, OLGA, thread_id, NewMessage(body="hi"))
    first = await messages.post_message(
        built, PAT, thread_id, NewMessage(body="Gate code 4411", client_key="k1")
    )
    again = await messages.post_message(
        built, PAT, thread_id, NewMessage(body="Gate code 4411", client_key="k1")
    )
    assert first.created and not again.created and again.message == first.message
    assert [e.kind for e in state.feed[("acme", "ivan")]] == ["assigned", "message"]
    assert [e.kind for e in state.feed[("acme", "pat")]] == ["message"]  # the author's devices
    assert [type(e) for _, e in state.events][-1] is MessagePosted
    (summary,) = await messages.my_threads(built, IVAN)
    assert summary.unread == 1
    (pats,) = await messages.my_threads(built, PAT)  # Pat follows the thread now
    assert pats.unread == 0


async def test_reading_records_both_times_and_sends_a_receipt_to_the_author(
    deps: tuple[MessagingDeps, State, Clock],
) -> None:
    built, state, clock = deps
    thread_id = await job_thread(built, ["ivan"])
    await messages.post_message(built, PAT, thread_id, NewMessage(body="one"))
    clock.now = NOW + timedelta(minutes=5)
    await messages.post_message(built, PAT, thread_id, NewMessage(body="two"))
    clock.now = NOW + timedelta(minutes=10)
    with pytest.raises(InvalidReadTime, match="in the future"):
        await messages.mark_read(
            built, IVAN, thread_id, MarkRead(up_to_seq=2, client_read_at=NOW + timedelta(hours=1))
        )
    with pytest.raises(InvalidReadTime, match="before the message"):
        await messages.mark_read(built, IVAN, thread_id, MarkRead(up_to_seq=2, client_read_at=NOW))
    shown = NOW + timedelta(minutes=9)
    result = await messages.mark_read(
        built, IVAN, thread_id, MarkRead(up_to_seq=2, client_read_at=shown)
    )
    assert result.marked == 2
    for seq in (1, 2):
        (seen,) = await messages.seen_by(built, PAT, thread_id, seq)
        assert (seen.user_id, seen.read_at, seen.client_read_at) == ("ivan", clock.now, shown)
    receipt = state.feed[("acme", "pat")][-1]
    assert receipt.kind == "read" and receipt.data["seqs"] == [1, 2]
    assert isinstance(state.events[-1][1], MessagesRead)
    events = len(state.events)
    again = await messages.mark_read(built, IVAN, thread_id, MarkRead(up_to_seq=2))
    assert again.marked == 0 and len(state.events) == events  # nothing new: no receipt


async def test_a_completed_job_gets_one_survey_after_the_policy_delay(
    deps: tuple[MessagingDeps, State, Clock],
) -> None:
    built, state, _ = deps
    await job_thread(built, ["ivan"])

    async def on_milestone(uow, envelope, event):  # type: ignore[no-untyped-def]
        await surveys.on_milestone(built, uow, envelope, event)

    sold = MilestoneChanged(
        job_id="job-1", from_milestone="prospect", to_milestone="approved", by="a"
    )
    await consume(built, on_milestone, sold, "job-1")
    assert state.surveys == {}
    done = sold.model_copy(update={"from_milestone": "installed", "to_milestone": "completed"})
    await consume(built, on_milestone, done, "job-1")
    await consume(built, on_milestone, done, "job-1")
    (survey,) = state.surveys.values()
    assert (survey.contact_email, survey.crew_id) == ("dana@home.example", "crew-a")
    ((email, status, send_at),) = [e for e in state.emails.values() if e[0].kind == "survey"]
    assert status == "queued" and email.to_address == "dana@home.example"
    # One business day after the completion (the event's time), by the policy's default.
    assert send_at == survey.send_at and send_at.date() == datetime.now(UTC).date() + timedelta(1)
    assert built.links.survey_url("acme", survey.survey_id) in email.body


async def test_a_survey_is_answered_once_with_its_form_version(
    deps: tuple[MessagingDeps, State, Clock],
) -> None:
    built, state, _ = deps
    await job_thread(built, [])

    async def on_milestone(uow, envelope, event):  # type: ignore[no-untyped-def]
        await surveys.on_milestone(built, uow, envelope, event)

    done = MilestoneChanged(
        job_id="job-1", from_milestone="installed", to_milestone="completed", by="a"
    )
    await consume(built, on_milestone, done, "job-1")
    (survey,) = state.surveys.values()
    token = built.links.survey_token("acme", survey.survey_id)
    with pytest.raises(InvalidAnswers) as refused:
        await surveys.answer_survey(built, token, {"overall": "9"})
    assert refused.value.errors == [
        {"field": "overall", "message": "a rating is a whole number from 1 to 5"}
    ]
    answered = await surveys.answer_survey(built, token, {"overall": "1"})
    assert (answered.rating, answered.form_version) == (1, 0)
    (event,) = [e for _, e in state.events if isinstance(e, SurveyAnswered)]
    assert event.rating == 1 and event.job_id == "job-1"
    with pytest.raises(SurveyUnavailable) as used:
        await surveys.answer_survey(built, token, {"overall": "5"})
    assert used.value.reason == "answered"
    with pytest.raises(SurveyUnavailable) as forged:
        await surveys.answer_survey(built, token[:-2] + "xx", {"overall": "5"})
    assert forged.value.reason == "invalid"


async def test_an_unassigned_author_gets_no_receipts(
    deps: tuple[MessagingDeps, State, Clock],
) -> None:
    built, state, clock = deps
    thread_id = await job_thread(built, ["ivan"])
    await messages.post_message(built, IVAN, thread_id, NewMessage(body="On site"))
    await consume(built, work.on_crew, crew(["olga"]), "job-1")
    clock.now = NOW + timedelta(minutes=1)
    read = await messages.mark_read(built, PAT, thread_id, MarkRead(up_to_seq=1))
    assert read.marked == 1
    assert [e.kind for e in state.feed[("acme", "ivan")]][-1] == "unassigned"
    assert [e.kind for e in state.feed[("acme", "pat")]][-1] == "read"


async def test_a_completed_ticket_gets_no_survey_unless_the_tenant_wants_it(
    deps: tuple[MessagingDeps, State, Clock],
) -> None:
    built, state, _ = deps
    customer = TicketCustomer(name="Lee", property_address="4 Oak Ave", email="lee@home.example")
    opened = TicketOpened(
        ticket_id="t-1",
        ticket_number="T-2026-0001",
        type="service_call",
        status="new",
        customer=customer,
        line_items=[],
        amount_due=Decimal("0.00"),
        payment_status="no_charge",
        assignment=TicketAssignment(technician_ids=["tom"]),
        opened_by="sue",
    )
    await consume(built, work.on_ticket_opened, opened, "t-1")
    await consume(built, work.on_ticket_opened, opened, "t-1")  # a replay: the same thread
    (thread,) = state.threads.values()
    assert (thread.kind, thread.subject_id) == ("ticket", "t-1")
    assert [e.kind for e in state.feed[("acme", "tom")]] == ["assigned"]

    async def on_status(uow, envelope, event):  # type: ignore[no-untyped-def]
        await surveys.on_ticket_status(built, uow, envelope, event)

    done = TicketStatusChanged(
        ticket_id="t-1", job_id=None, from_status="in_progress", to_status="complete", by="tom"
    )
    await consume(built, on_status, done, "t-1")
    assert state.surveys == {}  # the surveys policy surveys jobs only, unless a tenant adds tickets
    assert built.policy.log[-1].decision_point == "messaging.send_survey"  # type: ignore[attr-defined]
