"""Satisfaction surveys (seed 001): one per completed job (and ticket, where the tenant's
``surveys`` policy wants it), sent after the policy's delay as an email with a signed link; the
customer's answers publish ``messaging.survey_answered.v1`` (billing's collection policy reads
the rating); rating tracking per job, crew and month; the tenant's versioned questions."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from services.messaging.domain.email import OutgoingEmail
from services.messaging.domain.portal import WorkFacts
from services.messaging.domain.surveys import (
    OVERALL,
    FormQuestions,
    Survey,
    SurveyForm,
    SurveyUnavailable,
    read_answers,
    usable,
)
from services.messaging.handlers.work import project
from services.messaging.ports import MessagingDeps, MessagingUnitOfWork
from shared.contracts.jobs import MilestoneChanged
from shared.contracts.messaging import SurveyAnswered, SurveyFacts, SurveySubject
from shared.contracts.tickets import TicketStatusChanged
from shared.platform.http.auth import Caller
from shared.platform.messaging.envelope import Envelope
from shared.policy.asking import SOURCE_OUTSIDE_HTTP

NAMESPACE = uuid.UUID("0b6f3c55-7f0e-4b8a-a1d4-5d1f6c2e9a31")
SURVEY_TASK = "send satisfaction survey"
# The jobs milestone and the ticket status that mean the work is done.
JOB_DONE = "completed"
TICKET_DONE = "complete"


async def on_milestone(
    deps: MessagingDeps, uow: MessagingUnitOfWork, envelope: Envelope, moved: MilestoneChanged
) -> None:
    facts = await project(uow, envelope, moved)
    if moved.to_milestone == JOB_DONE and facts is not None:
        await schedule_survey(deps, uow, envelope, "job", facts)


async def on_ticket_status(
    deps: MessagingDeps,
    uow: MessagingUnitOfWork,
    envelope: Envelope,
    changed: TicketStatusChanged,
) -> None:
    facts = await project(uow, envelope, changed)
    if changed.to_status == TICKET_DONE and facts is not None:
        await schedule_survey(deps, uow, envelope, "ticket", facts)


async def schedule_survey(
    deps: MessagingDeps,
    uow: MessagingUnitOfWork,
    envelope: Envelope,
    subject: SurveySubject,
    facts: WorkFacts,
) -> Survey | None:
    """Ask the ``surveys`` policy; if it schedules one, keep the survey (once per job or ticket)
    and queue its email for the policy's send time, in this transaction."""
    decision = await deps.policy.decide(
        uow.transaction,
        "messaging.send_survey",
        SurveyFacts(
            subject=subject, trades=list(facts.trades), has_email=bool(facts.customer_email)
        ),
        tenant=uow.tenant_id,
        subject=facts.subject_id,
        source=SOURCE_OUTSIDE_HTTP,
    )
    scheduled = [rule for rule in decision.of("schedule") if rule.task == SURVEY_TASK]
    if not scheduled or facts.customer_email is None:
        return None
    completed = facts.completed_at or envelope.time
    send_at = deps.policy.business_days_after(
        uow.tenant_id, completed, scheduled[0].within_business_days or 0
    )
    form = await uow.repos.surveys.form()
    assert form is not None  # the latest, or the default
    survey = Survey(
        survey_id=survey_id_of(uow.tenant_id, subject, facts.subject_id),
        subject=subject,
        subject_id=facts.subject_id,
        job_id=facts.subject_id if subject == "job" else facts.job_id,
        crew_id=facts.crew_id,
        contact_name=facts.customer_name,
        contact_email=facts.customer_email,
        send_at=send_at,
        expires_at=send_at + timedelta(days=deps.settings.survey_link_valid_days),
        form_version=form.version,  # what the customer is asked, whatever changes later
    )
    if not await uow.repos.surveys.add(survey):
        return None  # once per job
    link = deps.links.survey_url(uow.tenant_id, survey.survey_id)
    what = f"job {facts.number}" if subject == "job" and facts.number else "the work we did"
    await uow.repos.notices.queue(
        OutgoingEmail(
            email_id=survey.survey_id,
            tenant_id=uow.tenant_id,
            to_user=f"customer:{facts.subject_id}",
            to_address=survey.contact_email,
            subject="How did we do?",
            body=(
                f"Hello {facts.customer_name or ''},\n\n"
                f"Thank you for choosing us for {what} at {facts.property_address}. "
                "Would you tell us how it went? It takes a minute:\n\n"
                f"{link}\n\nThe link works once, until "
                f"{survey.expires_at:%B %d, %Y}."
            ),
            kind="survey",
        ),
        send_at=send_at,
        now=envelope.time,
    )
    return survey


async def open_survey(deps: MessagingDeps, token: str) -> tuple[Survey, SurveyForm]:
    """The survey a link names and the form it is answered with, or why not (nothing changes)."""
    ref = deps.links.survey_of(token)
    if ref is None:
        raise SurveyUnavailable("invalid", "This survey link is not valid.")
    async with deps.unit_of_work(ref.tenant_id) as uow:
        survey = usable(await uow.repos.surveys.get(ref.survey_id), deps.clock())
        return survey, await _form_of(uow, survey)


async def answer_survey(deps: MessagingDeps, token: str, raw: dict[str, Any]) -> Survey:
    """Record the answers once, with the form version answered, and publish the rating."""
    ref = deps.links.survey_of(token)
    if ref is None:
        raise SurveyUnavailable("invalid", "This survey link is not valid.")
    async with deps.unit_of_work(ref.tenant_id) as uow:
        surveys = uow.repos.surveys
        survey = usable(await surveys.get(ref.survey_id), deps.clock())
        form = await _form_of(uow, survey)
        answers = read_answers(form, raw)
        now = deps.clock()
        if not await surveys.answer(
            survey.survey_id, rating=answers[OVERALL], answers=answers, at=now
        ):
            raise SurveyUnavailable("answered", "This survey was already answered. Thank you!")
        uow.record(
            SurveyAnswered(
                survey_id=survey.survey_id,
                subject=survey.subject,
                job_id=survey.job_id,
                ticket_id=survey.subject_id if survey.subject == "ticket" else None,
                crew_id=survey.crew_id,
                contact_name=survey.contact_name,
                contact_email=survey.contact_email,
                rating=answers[OVERALL],
                form_version=form.version,
                answered_at=now,
            ),
            subject=survey.job_id or survey.subject_id,
        )
        await uow.commit()
    return survey.model_copy(
        update={
            "answered_at": now,
            "form_version": form.version,
            "rating": answers[OVERALL],
            "answers": answers,
        }
    )


async def _form_of(uow: MessagingUnitOfWork, survey: Survey) -> SurveyForm:
    """The questions the survey was sent with (its version, kept on the survey)."""
    form = await uow.repos.surveys.form(survey.form_version or 0)
    assert form is not None  # versions are never deleted
    return form


async def put_questions(
    deps: MessagingDeps, caller: Caller, questions: FormQuestions
) -> SurveyForm:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        form = await uow.repos.surveys.new_form(questions, caller.user_id, deps.clock())
        await uow.commit()
    return form


async def current_form(
    deps: MessagingDeps, caller: Caller, version: int | None
) -> SurveyForm | None:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        return await uow.repos.surveys.form(version)


async def ratings(deps: MessagingDeps, caller: Caller, by: str) -> list[dict[str, Any]]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        return await uow.repos.surveys.ratings(by)


async def survey(
    deps: MessagingDeps, caller: Caller, kind: SurveySubject, subject_id: str
) -> Survey | None:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        return await uow.repos.surveys.get(survey_id_of(caller.tenant_id, kind, subject_id))


def survey_id_of(tenant_id: str, subject: SurveySubject, subject_id: str) -> str:
    """One survey per job (and per ticket): its id follows from them."""
    return str(uuid.uuid5(NAMESPACE, f"{tenant_id}:{subject}:{subject_id}"))
