"""Collections under policy (seed 002): whether the job's collection is held is the
``collections`` policy's decision at ``billing.collect_payment``, asked whenever what billing
knows of the customer changes (a complaint or field issue opened or resolved in tickets, a survey
answered in messaging) and at every collection attempt or refusal the office records. A hold, its
release, a concession, a refusal and an escalation are each an event and a line in the job's
billing timeline; production and the billing manager are told through the policy's notify and
escalate outcomes (delivered by messaging)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel

from services.billing.domain import Folder, MoneyRecord, balance_of
from services.billing.domain.collections import (
    Decide,
    Escalation,
    EscalationNotFound,
    NewConcession,
    Refusal,
    TimelineLine,
)
from services.billing.domain.ledger import balance_from
from services.billing.handlers.books import book, folder_of
from services.billing.ports import BillingDeps, BillingUnitOfWork
from shared.contracts.billing import (
    CollectionHeld,
    CollectionReleased,
    ConcessionAsked,
    ConcessionGranted,
    EscalationDecided,
    FileEscalated,
    GrantConcessionFacts,
    PaymentRefusedByCustomer,
)
from shared.contracts.messaging import SurveyAnswered
from shared.contracts.roles import Actor
from shared.contracts.tickets import IssueOpened, IssueResolved
from shared.platform.context import request_source
from shared.platform.http.auth import Caller
from shared.platform.messaging.envelope import Envelope
from shared.policy.asking import SOURCE_OUTSIDE_HTTP, decide_or_refuse
from shared.policy.decider import Decider
from shared.policy.decision import Decision

COLLECT = "billing.collect_payment"
CONCEDE = "billing.grant_concession"


class Attempt(BaseModel):
    job_id: str
    balance: Decimal
    decision: str  # the policy's outcome: allow, or escalate, notify...


# -- what billing hears --------------------------------------------------------------------------


async def on_issue_opened(
    policy: Decider, uow: BillingUnitOfWork, envelope: Envelope, issue: IssueOpened
) -> None:
    if issue.job_id is None:
        return  # a customer of tickets' own, not a job billing collects on
    folder = await uow.repos.folders.get(issue.job_id, for_update=True)
    if folder is not None:
        issues = folder.standing.open_issues | {issue.ticket_id: issue.kind}
        await _standing_changed(policy, uow, folder, {"open_issues": issues}, envelope)


async def on_issue_resolved(
    policy: Decider, uow: BillingUnitOfWork, envelope: Envelope, resolved: IssueResolved
) -> None:
    if resolved.job_id is None:
        return
    folder = await uow.repos.folders.get(resolved.job_id, for_update=True)
    if folder is not None and resolved.ticket_id in folder.standing.open_issues:
        issues = {k: v for k, v in folder.standing.open_issues.items() if k != resolved.ticket_id}
        await _standing_changed(policy, uow, folder, {"open_issues": issues}, envelope)


async def on_survey_answered(
    policy: Decider, uow: BillingUnitOfWork, envelope: Envelope, answered: SurveyAnswered
) -> None:
    if answered.job_id is None:
        return
    folder = await uow.repos.folders.get(answered.job_id, for_update=True)
    if folder is not None:
        await _standing_changed(policy, uow, folder, {"rating": answered.rating}, envelope)


async def _standing_changed(
    policy: Decider,
    uow: BillingUnitOfWork,
    folder: Folder,
    update: dict[str, object],
    envelope: Envelope,
) -> None:
    folder = folder.model_copy(update={"standing": folder.standing.model_copy(update=update)})
    await review(policy, uow, folder, envelope.time, by="billing", cause=envelope, changed=True)


async def review(
    policy: Decider,
    uow: BillingUnitOfWork,
    folder: Folder,
    at: datetime,
    *,
    by: str,
    cause: Envelope | None = None,
    changed: bool = False,
) -> Decision:
    """Ask the policy whether collection is held now; hold or release the job to match. The
    folder is saved once, with what changed (``changed``: the caller's change, not saved yet)."""
    decision = await _ask(policy, uow, folder)
    holds = decision.of("hold")
    standing, job_id = folder.standing, folder.job_id
    if holds and standing.held_since is None:
        reasons = [rule.reason for rule in holds]
        standing = standing.model_copy(update={"held_since": at, "hold_reasons": tuple(reasons)})
        uow.record(CollectionHeld(job_id=job_id, reasons=reasons), subject=job_id, cause=cause)
        await uow.repos.timeline.add(
            job_id, TimelineLine(at=at, kind="hold", text="; ".join(reasons), by=by)
        )
    elif not holds and standing.held_since is not None:
        standing = standing.model_copy(update={"held_since": None, "hold_reasons": ()})
        reason = "repairs complete: collection may go ahead"
        uow.record(CollectionReleased(job_id=job_id, reason=reason), subject=job_id, cause=cause)
        await uow.repos.timeline.add(
            job_id, TimelineLine(at=at, kind="release", text=reason, by=by)
        )
    if changed or standing != folder.standing:
        await uow.repos.folders.save(folder.model_copy(update={"standing": standing}))
    return decision


async def _ask(
    policy: Decider,
    uow: BillingUnitOfWork,
    folder: Folder,
    *,
    refused: bool = False,
) -> Decision:
    balance = balance_from(folder.contract_price, await uow.repos.records.totals(folder.job_id))
    facts = folder.standing.facts(
        balance=balance.balance, concessions=balance.concessions, refused=refused
    )
    return await policy.decide(
        uow.transaction,
        COLLECT,
        facts,
        tenant=uow.tenant_id,
        subject=folder.job_id,
        # The route when an office user's request asks (a refusal), else a consumer's event.
        source=request_source() or SOURCE_OUTSIDE_HTTP,
    )


# -- what the office does ------------------------------------------------------------------------


async def attempt_collection(deps: BillingDeps, caller: Caller, job_id: str) -> Attempt:
    """Asking the customer to pay: refused (409, with the policy's reasons) while on hold."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        folder = await folder_of(uow, job_id, for_update=True)
        records = await uow.repos.records.of_job(job_id)
        balance = balance_of(folder.contract_price, records)
        facts = folder.standing.facts(balance=balance.balance, concessions=balance.concessions)
        decision = await decide_or_refuse(deps.policy, uow, COLLECT, facts, subject=job_id)
        await uow.repos.timeline.add(
            job_id,
            TimelineLine(
                at=deps.clock(),
                kind="collection_attempt",
                text=f"asked the customer for {balance.balance}",
                by=caller.user_id,
            ),
        )
        await uow.commit()
    return Attempt(job_id=job_id, balance=balance.balance, decision=decision.outcome)


async def record_refusal(
    deps: BillingDeps, caller: Caller, job_id: str, refusal: Refusal
) -> Escalation | None:
    """The customer refuses to pay: kept, and escalated to the billing manager if the policy
    says (repairs done, a concession offered); the open escalation if any."""
    now = deps.clock()
    async with deps.unit_of_work(caller.tenant_id) as uow:
        folder = await folder_of(uow, job_id, for_update=True)
        decision = await _ask(deps.policy, uow, folder, refused=True)
        folder = folder.model_copy(
            update={
                "standing": folder.standing.model_copy(
                    update={"refusals": folder.standing.refusals + 1}
                )
            }
        )
        await uow.repos.folders.save(folder)
        escalation = None
        escalates = decision.of("escalate")
        if escalates:
            reason = " ".join(rule.reason for rule in escalates)
            escalation = Escalation(
                escalation_id=str(uuid.uuid4()), job_id=job_id, reason=reason, opened_at=now
            )
            if await uow.repos.escalations.open(escalation):
                uow.record(
                    FileEscalated(
                        job_id=job_id, escalation_id=escalation.escalation_id, reason=reason
                    ),
                    subject=job_id,
                )
                await uow.repos.timeline.add(
                    job_id, TimelineLine(at=now, kind="escalation", text=reason, by=caller.user_id)
                )
            else:
                escalation = next(
                    e
                    for e in await uow.repos.escalations.listed(open_only=True)
                    if e.job_id == job_id
                )
        uow.record(
            PaymentRefusedByCustomer(
                job_id=job_id, note=refusal.note, by=caller.user_id, escalated=bool(escalates)
            ),
            subject=job_id,
        )
        await uow.repos.timeline.add(
            job_id, TimelineLine(at=now, kind="refusal", text=refusal.note, by=caller.user_id)
        )
        await uow.commit()
    return escalation


async def grant_concession(
    deps: BillingDeps, caller: Caller, job_id: str, concession: NewConcession
) -> MoneyRecord:
    """A concession the production head negotiated (the ``concessions`` policy decides who may,
    and tells billing of the amount): a record that lowers the balance."""
    now = deps.clock()
    async with deps.unit_of_work(caller.tenant_id) as uow:
        folder = await folder_of(uow, job_id, for_update=True)
        owed = balance_of(folder.contract_price, await uow.repos.records.of_job(job_id)).balance
        facts = GrantConcessionFacts(
            actor=Actor(roles=sorted(caller.roles)),
            concession=ConcessionAsked(amount=concession.amount, reason=concession.reason),
            balance=owed,
            balance_after=owed - concession.amount,
        )
        await decide_or_refuse(deps.policy, uow, CONCEDE, facts, subject=job_id)
        record = MoneyRecord(
            record_id=str(uuid.uuid4()),
            kind="concession",
            amount=concession.amount,
            on=now.date(),
            description=concession.reason,
            by=caller.user_id,
            recorded_at=now,
        )
        await book(uow, folder, record)
        uow.record(
            ConcessionGranted(
                job_id=job_id,
                record_id=record.record_id,
                amount=record.amount,
                reason=concession.reason,
                approved_by=caller.user_id,
            ),
            subject=job_id,
        )
        await uow.commit()
    return record


async def decide_escalation(
    deps: BillingDeps, caller: Caller, escalation_id: str, decided: Decide
) -> Escalation:
    """The billing manager's decision closes the escalation; a write-off writes the balance
    off as a record of its own."""
    now = deps.clock()
    async with deps.unit_of_work(caller.tenant_id) as uow:
        escalation = await uow.repos.escalations.get(escalation_id, for_update=True)
        if escalation is None or escalation.decision is not None:
            raise EscalationNotFound(f"no open escalation {escalation_id}")
        folder = await folder_of(uow, escalation.job_id, for_update=True)
        if decided.decision == "write_off":
            owed = balance_of(folder.contract_price, await uow.repos.records.of_job(folder.job_id))
            if owed.balance > 0:
                await book(
                    uow,
                    folder,
                    MoneyRecord(
                        record_id=str(uuid.uuid4()),
                        kind="write_off",
                        amount=owed.balance,
                        on=now.date(),
                        description=decided.note,
                        by=caller.user_id,
                        recorded_at=now,
                    ),
                )
        escalation = escalation.model_copy(
            update={
                "decision": decided.decision,
                "note": decided.note,
                "decided_by": caller.user_id,
                "decided_at": now,
            }
        )
        await uow.repos.escalations.save(escalation)
        uow.record(
            EscalationDecided(
                job_id=escalation.job_id,
                escalation_id=escalation_id,
                decision=decided.decision,
                note=decided.note,
                by=caller.user_id,
            ),
            subject=escalation.job_id,
        )
        await uow.repos.timeline.add(
            escalation.job_id,
            TimelineLine(
                at=now,
                kind="escalation_decided",
                text=f"{decided.decision.replace('_', ' ')}: {decided.note}",
                by=caller.user_id,
            ),
        )
        await uow.commit()
    return escalation


class EscalationFile(BaseModel):
    """An escalation with the job's whole history: its records, balance and timeline."""

    escalation: Escalation
    folder: Folder
    records: list[MoneyRecord]
    balance: Decimal
    timeline: list[TimelineLine]


async def escalations(deps: BillingDeps, caller: Caller, *, open_only: bool) -> list[Escalation]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        return await uow.repos.escalations.listed(open_only=open_only)


async def escalation_file(deps: BillingDeps, caller: Caller, escalation_id: str) -> EscalationFile:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        escalation = await uow.repos.escalations.get(escalation_id)
        if escalation is None:
            raise EscalationNotFound(f"no escalation {escalation_id}")
        folder = await folder_of(uow, escalation.job_id, for_update=True)
        records = await uow.repos.records.of_job(folder.job_id)
        return EscalationFile(
            escalation=escalation,
            folder=folder,
            records=records,
            balance=balance_of(folder.contract_price, records).balance,
            timeline=await uow.repos.timeline.of_job(folder.job_id),
        )


async def timeline(deps: BillingDeps, caller: Caller, job_id: str) -> list[TimelineLine]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        await folder_of(uow, job_id)
        return await uow.repos.timeline.of_job(job_id)
