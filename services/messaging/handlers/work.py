"""What messaging keeps of jobs' and tickets' events: the field's view of each job and ticket,
one thread per job (opened with its lead: answered with ``messaging.thread_opened.v1``, which
jobs counts as messaging's acknowledgement) and per ticket, and who is on each thread: the
installers of the job's crew and the ticket's technicians (assigned: they join and are told;
unassigned: they lose access), and the job's office team."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from services.messaging.domain.notifications import Alert
from services.messaging.domain.portal import WorkFacts, apply_work_event
from services.messaging.domain.threads import ThreadInfo
from services.messaging.handlers.common import alert
from services.messaging.ports import MessagingUnitOfWork
from shared.contracts.base import EventData
from shared.contracts.jobs import CrewAssigned, LeadCreated, TeamAssigned
from shared.contracts.messaging import ThreadKind, ThreadOpened
from shared.contracts.tickets import TicketAssigned, TicketOpened
from shared.platform.messaging.envelope import Envelope


async def project(
    uow: MessagingUnitOfWork, envelope: Envelope, event: EventData
) -> WorkFacts | None:
    """Fold the event into the field's view of its job or ticket; the facts after it."""
    kind, subject_id = subject_of(event)
    before = await uow.repos.portal.get_for_update(kind, subject_id)
    after = apply_work_event(before, event)
    if after is not None and after != before:
        await uow.repos.portal.put(after, envelope.time)
    return after


def subject_of(event: EventData) -> tuple[ThreadKind, str]:
    ticket_id = getattr(event, "ticket_id", None)
    if ticket_id is not None:
        return "ticket", str(ticket_id)
    return "job", str(event.job_id)  # type: ignore[attr-defined]


async def on_lead(uow: MessagingUnitOfWork, envelope: Envelope, lead: LeadCreated) -> None:
    await project(uow, envelope, lead)
    thread = ThreadInfo(
        thread_id=str(uuid.uuid4()),
        kind="job",
        subject_id=lead.job_id,
        title=f"{lead.customer_name}, {lead.property_address}",
        opened_at=envelope.time,
    )
    if await uow.repos.threads.open(thread, opened_by=lead.salesman_id):
        uow.record(
            ThreadOpened(job_id=lead.job_id, thread_id=thread.thread_id),
            subject=lead.job_id,
            cause=envelope,
        )


async def on_job_event(uow: MessagingUnitOfWork, envelope: Envelope, event: EventData) -> None:
    await project(uow, envelope, event)


async def on_team(uow: MessagingUnitOfWork, envelope: Envelope, team: TeamAssigned) -> None:
    """The job's office team follows its thread (their unread counts include it)."""
    thread = await uow.repos.threads.of_subject("job", team.job_id)
    if thread is None:
        return
    office = (team.sales_rep_id, team.csa_id, team.production_manager_id, team.project_manager_id)
    await uow.repos.threads.join(
        thread.thread_id, [user for user in office if user], "office", envelope.time
    )


async def on_crew(uow: MessagingUnitOfWork, envelope: Envelope, crew: CrewAssigned) -> None:
    facts = await project(uow, envelope, crew)
    thread = await uow.repos.threads.of_subject("job", crew.job_id)
    if thread is not None and facts is not None:
        await assign_field(uow, envelope.time, thread, facts, crew.member_ids)


async def on_ticket_opened(
    uow: MessagingUnitOfWork, envelope: Envelope, ticket: TicketOpened
) -> None:
    facts = await project(uow, envelope, ticket)
    thread = ThreadInfo(
        thread_id=str(uuid.uuid4()),
        kind="ticket",
        subject_id=ticket.ticket_id,
        title=f"Ticket {ticket.ticket_number}: {ticket.customer.name}",
        opened_at=envelope.time,
    )
    if not await uow.repos.threads.open(thread, opened_by=ticket.opened_by):
        kept = await uow.repos.threads.of_subject("ticket", ticket.ticket_id)
        assert kept is not None  # the ticket's thread, opened before
        thread = kept
    await uow.repos.threads.join(thread.thread_id, [ticket.opened_by], "office", envelope.time)
    if facts is not None:
        await assign_field(uow, envelope.time, thread, facts, ticket.assignment.technician_ids)


async def on_ticket_assigned(
    uow: MessagingUnitOfWork, envelope: Envelope, assigned: TicketAssigned
) -> None:
    facts = await project(uow, envelope, assigned)
    thread = await uow.repos.threads.of_subject("ticket", assigned.ticket_id)
    if thread is not None and facts is not None:
        await assign_field(uow, envelope.time, thread, facts, assigned.assignment.technician_ids)


async def assign_field(
    uow: MessagingUnitOfWork,
    now: datetime,
    thread: ThreadInfo,
    facts: WorkFacts,
    assigned: Sequence[str],
) -> None:
    """The thread's field workers are now ``assigned``: the new ones join and are told (feed and
    email); the others lose access (what they wrote stays)."""
    threads = uow.repos.threads
    current = {
        p.user_id
        for p in await threads.participants_of(thread.thread_id)
        if p.active and p.role == "field"
    }
    removed = sorted(current - set(assigned))
    await threads.leave(thread.thread_id, removed)
    added = await threads.join(thread.thread_id, assigned, "field", now)
    what = {"kind": thread.kind, "subject_id": thread.subject_id, "thread_id": thread.thread_id}
    if removed:
        await uow.repos.feed.push(removed, "unassigned", what, now)
    if added:
        await uow.repos.feed.push(added, "assigned", {**what, "title": thread.title}, now)
        when = ", ".join(day.isoformat() for day in facts.days) or "to be scheduled"
        await alert(
            uow,
            added,
            Alert(
                key=f"assigned:{thread.thread_id}:{now.isoformat()}",
                subject=f"You are assigned: {thread.title}",
                body=(
                    f"You are assigned to {thread.kind} {facts.number or thread.subject_id}.\n"
                    f"Address: {facts.property_address or '(not set)'}\n"
                    f"Days: {when}\n"
                    f"Trades: {', '.join(facts.trades) or '(not set)'}"
                ),
                kind="assignment",
            ),
            now,
        )
