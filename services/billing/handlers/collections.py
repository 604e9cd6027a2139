"""Collections under policy (seed 002): whether the job's collection is held is the
``collections`` policy's decision at ``billing.collect_payment``, asked whenever what billing
knows of the customer changes (a complaint or field issue opened or resolved in tickets, a survey
answered in messaging) and at every collection attempt or refusal the office records. A hold, its
release, a concession, a refusal and an escalation are each an event and a line in the job's
billing timeline; production and the billing manager are told through the policy's notify and
escalate outcomes (delivered by messaging)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from services.billing.domain import Balance, Folder, MoneyRecord, balance_of
from services.billing.domain.collections import (
    Decide,
    Escalation,
    EscalationNotFound,
    NewConcession,
    Refusal,
    Standing,
    TimelineLine,
    held_or_released,
    standing_change,
)
from services.billing.domain.ledger import balance_from
from services.billing.handlers.books import book, folder_of
from services.billing.ports import BillingDeps, BillingUnitOfWork
from shared.contracts.billing import (
    ConcessionAsked,
    ConcessionGranted,
    EscalationDecided,
    FileEscalated,
    GrantConcessionFacts,
    PaymentRefusedByCustomer,
)
from shared.contracts.roles import Actor
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


async def project_standing(
    policy: Decider, uow: BillingUnitOfWork, events: list[tuple[Envelope, Any]]
) -> None:
    """A run of complaints and field issues opened or resolved (tickets) and survey ratings
    (messaging), folded in order over the standing of the jobs they are about: each change asks
    the policy whether collection is held now, and holds or releases the job to match. The
    folders and their timeline lines are written once for the run."""
    ids = sorted({event.job_id for _, event in events if event.job_id is not None})
    folders = await uow.repos.folders.get_many(ids, for_update=True)
    sums = await uow.repos.records.totals_of(ids)
    changed: dict[str, Folder] = {}
    lines: list[tuple[str, TimelineLine]] = []
    for envelope, event in events:
        folder = folders.get(event.job_id) if event.job_id is not None else None
        # A customer of tickets' own (no job), or a job billing does not collect on.
        if folder is None:
            continue
        update = standing_change(folder.standing, event)
        if update is None:
            continue
        standing = folder.standing.model_copy(update=update)
        balance = balance_from(folder.contract_price, sums.get(folder.job_id, {}))
        decision = await _decide(policy, uow, folder.job_id, standing, balance)
        holds = [rule.reason for rule in decision.of("hold")]
        standing, line, told = held_or_released(
            folder.job_id, standing, holds, envelope.time, by="billing"
        )
        if line is not None and told is not None:
            lines.append((folder.job_id, line))
            uow.record(told, subject=folder.job_id, cause=envelope)
        folders[folder.job_id] = changed[folder.job_id] = folder.model_copy(
            update={"standing": standing}
        )
    await uow.repos.folders.put_many(list(changed.values()))
    await uow.repos.timeline.add_many(lines)


async def _decide(
    policy: Decider,
    uow: BillingUnitOfWork,
    job_id: str,
    standing: Standing,
    balance: Balance,
    *,
    refused: bool = False,
) -> Decision:
    facts = standing.facts(
        balance=balance.balance, concessions=balance.concessions, refused=refused
    )
    return await policy.decide(
        uow.transaction,
        COLLECT,
        facts,
        tenant=uow.tenant_id,
        subject=job_id,
        # The route when an office user's request asks (a refusal), else a consumer's event.
        source=request_source() or SOURCE_OUTSIDE_HTTP,
    )


async def _ask(
    policy: Decider, uow: BillingUnitOfWork, folder: Folder, *, refused: bool = False
) -> Decision:
    """The policy's answer on the folder as it is, its balance summed by the database."""
    balance = balance_from(folder.contract_price, await uow.repos.records.totals(folder.job_id))
    return await _decide(policy, uow, folder.job_id, folder.standing, balance, refused=refused)


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
