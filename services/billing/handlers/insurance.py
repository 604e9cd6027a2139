"""Insurance on a job (seed 000): the claim and its summary, supplements, the recoverable
depreciation released for completed line items only (``billing.release_depreciation``), and the
daily watch of the carrier's deadline for claiming it (``billing.watch_depreciation_deadline``)."""

from __future__ import annotations

import logging
import uuid
from datetime import date

from services.billing.domain.collections import TimelineLine
from services.billing.domain.insurance import (
    Claim,
    ClaimIn,
    ClaimNotFound,
    ClaimView,
    NewSupplement,
    NothingToRelease,
    ReportedTotals,
    Supplement,
    SupplementDecided,
    SupplementDecision,
)
from services.billing.domain.invoices import (
    Invoice,
    accounting_record,
    depreciation_invoice,
    depreciation_lines,
)
from services.billing.domain.ledger import MoneyRecord
from services.billing.handlers.books import book, folder_of
from services.billing.handlers.invoices import CREATE_RECORD
from services.billing.ports import BillingDeps, BillingUnitOfWork
from shared.contracts.billing import (
    ClaimDeadline,
    ClaimRecorded,
    CreateRecordFacts,
    DepreciationDeadlineFacts,
    DepreciationReleased,
    LineItemState,
    ReleaseDepreciationFacts,
    SupplementRequested,
)
from shared.contracts.billing import (
    SupplementDecided as SupplementDecidedEvent,
)
from shared.contracts.jobs import InsuranceRecorded
from shared.platform.http.auth import Caller
from shared.platform.messaging.envelope import Envelope
from shared.policy.asking import SOURCE_OUTSIDE_HTTP, decide_or_refuse
from shared.policy.decider import Decider

RELEASE = "billing.release_depreciation"
WATCH = "billing.watch_depreciation_deadline"
# The watch tells (notify / escalate) only when the policy's answer changes.
TOLD = ("notify", "escalate")

log = logging.getLogger(__name__)


def _deadline_table(policy: Decider, tenant: str) -> tuple[dict[str, object], ...]:
    return tuple(policy.params(WATCH, tenant)["carrier_deadlines"])


async def _keep(policy: Decider, uow: BillingUnitOfWork, claim: Claim) -> Claim:
    deadline = claim.deadline(_deadline_table(policy, uow.tenant_id))
    await uow.repos.claims.put(claim, deadline.due if deadline else None)
    return claim


async def claim_of(uow: BillingUnitOfWork, job_id: str, *, for_update: bool = False) -> Claim:
    claim = await uow.repos.claims.get(job_id, for_update=for_update)
    if claim is None:
        raise ClaimNotFound(f"no insurance claim on job {job_id}")
    return claim


async def record_claim(deps: BillingDeps, caller: Caller, job_id: str, new: ClaimIn) -> Claim:
    """The claim and the adjuster's summary, line by line (a later ``PUT`` replaces it; lines
    whose depreciation was invoiced cannot change)."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        folder = await folder_of(uow, job_id, for_update=True)
        kept = await uow.repos.claims.get(job_id)
        base = kept or Claim(job_id=job_id, carrier=new.carrier, claim_number=new.claim_number)
        claim = await _keep(deps.policy, uow, base.recorded(new))
        deadline = claim.deadline(_deadline_table(deps.policy, uow.tenant_id))
        uow.record(
            ClaimRecorded(
                job_id=job_id,
                carrier=claim.carrier,
                claim_number=claim.claim_number,
                rcv=claim.rcv,
                acv=claim.acv,
                depreciation=claim.depreciation,
                deductible=claim.deductible,
                depreciation_deadline=deadline.due if deadline else None,
            ),
            subject=folder.job_id,
        )
        await uow.repos.timeline.add(
            job_id,
            TimelineLine(
                at=deps.clock(),
                kind="claim",
                text=f"insurance claim {claim.claim_number} ({claim.carrier}): RCV {claim.rcv}, "
                f"depreciation {claim.depreciation}, deductible {claim.deductible}",
                by=caller.user_id,
            ),
        )
        await uow.commit()
    return claim


async def on_insurance_recorded(
    policy: Decider, uow: BillingUnitOfWork, envelope: Envelope, event: InsuranceRecorded
) -> None:
    """Jobs' insurance figures: the carrier, the claim number, the deductible, and the
    summary's totals as reported (the detailed invoice shows any difference from its lines)."""
    if await uow.repos.folders.get(event.job_id) is None:
        return
    kept = await uow.repos.claims.get(event.job_id, for_update=True)
    reported = ReportedTotals(
        rcv=event.rcv, acv=event.acv, depreciation=event.recoverable_depreciation
    )
    update: dict[str, object] = {"reported": reported}
    if event.carrier:
        update["carrier"] = event.carrier
    if event.claim_number:
        update["claim_number"] = event.claim_number
    if event.deductible is not None:
        update["deductible"] = event.deductible
    base = kept or Claim(
        job_id=event.job_id, carrier=event.carrier or "", claim_number=event.claim_number or ""
    )
    await _keep(policy, uow, base.model_copy(update=update))


async def claim(deps: BillingDeps, caller: Caller, job_id: str) -> ClaimView:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        found = await claim_of(uow, job_id)
    deadline = found.deadline(_deadline_table(deps.policy, caller.tenant_id))
    return ClaimView(**dict(found), depreciation_deadline=deadline)


async def request_supplement(
    deps: BillingDeps, caller: Caller, job_id: str, new: NewSupplement
) -> Supplement:
    now = deps.clock()
    supplement = Supplement(
        supplement_id=str(uuid.uuid4()),
        requested_by=caller.user_id,
        requested_at=now,
        **new.model_dump(),
    )
    async with deps.unit_of_work(caller.tenant_id) as uow:
        claim = await claim_of(uow, job_id, for_update=True)
        await _keep(deps.policy, uow, claim.with_supplement(supplement))
        uow.record(
            SupplementRequested(
                job_id=job_id,
                supplement_id=supplement.supplement_id,
                description=supplement.description,
                amount=supplement.amount,
                justification=supplement.justification,
            ),
            subject=job_id,
        )
        text = f"supplement requested: {supplement.description} {supplement.amount}"
        await uow.repos.timeline.add(
            job_id, TimelineLine(at=now, kind="supplement", text=text, by=caller.user_id)
        )
        await uow.commit()
    return supplement


async def decide_supplement(
    deps: BillingDeps, caller: Caller, job_id: str, supplement_id: str, answer: SupplementDecision
) -> Supplement:
    """The carrier's answer. An approved supplement is a money record (the balance rises by
    the amount approved); a denied one changes nothing but its status."""
    now = deps.clock()
    async with deps.unit_of_work(caller.tenant_id) as uow:
        folder = await folder_of(uow, job_id, for_update=True)
        claim = await claim_of(uow, job_id, for_update=True)
        asked = claim.supplement(supplement_id)
        if asked.status != "requested":
            raise SupplementDecided(
                f"supplement {supplement_id} was {asked.status} on {asked.decided_at:%Y-%m-%d}"
            )
        amount = (answer.amount or asked.amount) if answer.approved else None
        record_id = str(uuid.uuid4()) if amount is not None else None
        decided = asked.model_copy(
            update={
                "status": "approved" if answer.approved else "denied",
                "approved_amount": amount,
                "decided_by": caller.user_id,
                "decided_at": now,
                "note": answer.note,
                "record_id": record_id,
            }
        )
        await _keep(deps.policy, uow, claim.with_supplement(decided))
        uow.record(
            SupplementDecidedEvent(
                job_id=job_id,
                supplement_id=supplement_id,
                approved=answer.approved,
                amount=amount,
                note=answer.note,
            ),
            subject=job_id,
        )
        if amount is not None and record_id is not None:
            record = MoneyRecord(
                record_id=record_id,
                kind="supplement",
                amount=amount,
                on=now.date(),
                description=f"supplement approved: {asked.description}",
                by=caller.user_id,
                recorded_at=now,
            )
            await book(uow, folder, record)
        else:
            await uow.repos.timeline.add(
                job_id,
                TimelineLine(
                    at=now,
                    kind="supplement",
                    text=f"supplement denied: {asked.description}"
                    + (f" ({answer.note})" if answer.note else ""),
                    by=caller.user_id,
                ),
            )
        await uow.commit()
    return decided


async def release_depreciation(deps: BillingDeps, caller: Caller, job_id: str) -> Invoice:
    """Invoice the carrier for the recoverable depreciation of the lines the policy releases
    (completed line items only); the others are withheld, with the reasons, for a later
    release. ``NothingToRelease`` (nothing is written but the decisions) if none is."""
    now = deps.clock()
    async with deps.unit_of_work(caller.tenant_id) as uow:
        folder = await folder_of(uow, job_id, for_update=True)
        claim = await claim_of(uow, job_id, for_update=True)
        released, withheld, reasons = [], [], []
        for line in claim.unreleased():
            facts = ReleaseDepreciationFacts(
                line_item=LineItemState(
                    description=line.description,
                    completed=claim.installed(line, folder.line_items),
                    depreciation=line.depreciation,
                )
            )
            decision = await deps.policy.decide(
                uow.transaction,
                RELEASE,
                facts,
                tenant=uow.tenant_id,
                subject=job_id,
                source=SOURCE_OUTSIDE_HTTP,
            )
            if decision.allowed:
                released.append(line)
            else:
                withheld.append(line.code)
                reasons += [f"{line.code}: {rule.reason}" for rule in decision.enforced]
        if not released:
            await uow.commit()  # the decisions are kept: why nothing was released
            raise NothingToRelease(reasons)
        lines = depreciation_lines(released)
        create = CreateRecordFacts(record=accounting_record(lines))
        await decide_or_refuse(deps.policy, uow, CREATE_RECORD, create, subject=job_id)
        invoice = depreciation_invoice(
            invoice_id=str(uuid.uuid4()),
            number=await uow.repos.invoices.next_number(now.year),
            claim=claim,
            lines=lines,
            at=now,
            by=caller.user_id,
        )
        await uow.repos.invoices.add(invoice)
        codes = [line.code for line in released]
        await _keep(deps.policy, uow, claim.released_lines(codes, now.date(), invoice.number))
        uow.record(
            DepreciationReleased(
                job_id=job_id,
                invoice_id=invoice.invoice_id,
                number=invoice.number,
                amount=invoice.total,
                released=codes,
                withheld=withheld,
            ),
            subject=job_id,
        )
        text = f"depreciation {invoice.total} invoiced to {claim.carrier} ({invoice.number})"
        text += f"; withheld: {'; '.join(reasons)}" if reasons else ""
        await uow.repos.timeline.add(
            job_id, TimelineLine(at=now, kind="depreciation", text=text, by=caller.user_id)
        )
        await uow.commit()
    return invoice


async def watch_deadlines(deps: BillingDeps) -> int:
    """One round of the daily watch over every claim with depreciation left to claim; a claim
    that fails is logged and the others go on. Returns how many were checked."""
    today = deps.clock().date()
    checked = 0
    for tenant, job_id in await deps.claims_to_watch():
        try:
            await watch_deadline(deps, tenant, job_id, today)
            checked += 1
        except Exception:
            log.exception("depreciation deadline check failed for job %s", job_id)
    return checked


async def watch_deadline(deps: BillingDeps, tenant: str, job_id: str, today: date) -> str:
    """Ask the policy about the claim's deadline today; log the decision (messaging tells the
    roles it names) only when the answer changed since the last time. Returns the answer."""
    async with deps.unit_of_work(tenant) as uow:
        claim = await claim_of(uow, job_id, for_update=True)
        deadline = claim.deadline(_deadline_table(deps.policy, tenant))
        if deadline is None:
            return "allow"
        facts = DepreciationDeadlineFacts(
            claim=ClaimDeadline(
                carrier=claim.carrier,
                claim_number=claim.claim_number,
                outstanding=claim.outstanding,
                due=deadline.due,
                days_left=(deadline.due - today).days,
            )
        )
        answer = deps.policy.evaluate(WATCH, facts, tenant=tenant)
        told = next((kind for kind in TOLD[::-1] if answer.of(kind)), "")
        if told != claim.notice:
            await deps.policy.decide(
                uow.transaction, WATCH, facts, tenant=tenant, subject=job_id, source="watch"
            )
            await _keep(deps.policy, uow, claim.model_copy(update={"notice": told}))
            await uow.commit()
        return answer.outcome
