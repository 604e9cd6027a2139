"""Views by month and year, statements, and payouts (requested by the office or the salesman,
approved by a manager, paid; a paid payout never changes)."""

from __future__ import annotations

import uuid
from datetime import date

from services.commissions.domain.activity import MANAGERS
from services.commissions.domain.figures import ZERO
from services.commissions.domain.statements import (
    NEXT,
    NewPayout,
    Payout,
    PayoutNotFound,
    PayoutRefused,
    PayoutStatus,
    Statement,
    Summary,
    summary,
    totals,
)
from services.commissions.ports import CommissionsDeps, CommissionsUnitOfWork
from shared.contracts.commissions import PayoutChanged
from shared.platform.http.auth import Caller


def _manager(caller: Caller) -> bool:
    return bool(set(caller.roles) & set(MANAGERS))


def _own(caller: Caller, salesman_id: str) -> None:
    """A salesman reads only their own; another's is as unknown as another tenant's."""
    if not _manager(caller) and caller.user_id != salesman_id:
        raise PayoutNotFound(f"no commissions of {salesman_id} for you to see")


async def summary_of(
    deps: CommissionsDeps, caller: Caller, salesman_id: str | None, year: int
) -> Summary:
    """A salesman's year by month (None: the company's, for managers)."""
    if salesman_id is None:
        if not _manager(caller):
            raise PayoutNotFound("the company's commissions are for managers")
    else:
        _own(caller, salesman_id)
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    async with deps.unit_of_work(caller.tenant_id) as uow:
        records = (
            await uow.repos.activity.of_period(start, end)
            if salesman_id is None
            else await uow.repos.activity.of_salesman(salesman_id, start, end)
        )
        paid = await uow.repos.payouts.paid()
    return summary(salesman_id, year, records, paid)


async def statement(
    deps: CommissionsDeps, caller: Caller, salesman_id: str, start: date, end: date
) -> Statement:
    _own(caller, salesman_id)
    async with deps.unit_of_work(caller.tenant_id) as uow:
        records = await uow.repos.activity.of_salesman(salesman_id, start, end)
        paid = await uow.repos.payouts.paid()
    released = {f"{r.salesman_id}/{r.job_id}" for r in records if r.kind == "released"}
    return Statement(
        salesman_id=salesman_id,
        start=start,
        end=end,
        records=tuple(records),
        totals=totals(records, paid, released),
    )


async def request_payout(deps: CommissionsDeps, caller: Caller, new: NewPayout) -> Payout:
    """What is ready to request: the salesman's records of the period in no payout yet."""
    _own(caller, new.salesman_id)
    async with deps.unit_of_work(caller.tenant_id) as uow:
        records = await uow.repos.activity.of_salesman(new.salesman_id, new.start, new.end)
        ready = [r for r in records if r.payout_id is None]
        if not ready:
            raise PayoutRefused(
                f"nothing to request for {new.salesman_id} from {new.start} to {new.end}"
            )
        payout = Payout(
            payout_id=str(uuid.uuid4()),
            salesman_id=new.salesman_id,
            start=new.start,
            end=new.end,
            amount=sum((r.amount for r in ready), ZERO),
            record_ids=tuple(r.record_id for r in ready),
            requested_by=caller.user_id,
            requested_at=deps.clock(),
        )
        await uow.repos.payouts.put(payout)
        await uow.repos.activity.assign_payout(list(payout.record_ids), payout.payout_id)
        _changed(uow, payout)
        await uow.commit()
    return payout


async def advance_payout(
    deps: CommissionsDeps, caller: Caller, payout_id: str, *, to: PayoutStatus
) -> Payout:
    """The next step: a requested payout approved, an approved one paid (managers only; a paid
    one never changes, and no step is skipped)."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        payout = await uow.repos.payouts.get(payout_id, for_update=True)
        if payout is None:
            raise PayoutNotFound(f"no payout {payout_id}")
        step = NEXT.get(payout.status)
        if step is None:
            raise PayoutRefused(
                f"payout {payout_id} was paid on {payout.paid_at:%Y-%m-%d}: it never changes; "
                "correct it with an adjustment"
            )
        if step != to:
            raise PayoutRefused(f"payout {payout_id} is {payout.status}: it is {step} next")
        now, who = deps.clock(), caller.user_id
        stamp = (
            {"approved_by": who, "approved_at": now}
            if step == "approved"
            else {"paid_by": who, "paid_at": now}
        )
        payout = payout.model_copy(update={"status": step, **stamp})
        await uow.repos.payouts.put(payout)
        _changed(uow, payout)
        await uow.commit()
    return payout


async def payouts_of(
    deps: CommissionsDeps, caller: Caller, salesman_id: str | None
) -> list[Payout]:
    if salesman_id is None and not _manager(caller):
        salesman_id = caller.user_id
    if salesman_id is not None:
        _own(caller, salesman_id)
    async with deps.unit_of_work(caller.tenant_id) as uow:
        return await uow.repos.payouts.listed(salesman_id)


def _changed(uow: CommissionsUnitOfWork, payout: Payout) -> None:
    uow.record(
        PayoutChanged(
            payout_id=payout.payout_id,
            salesman_id=payout.salesman_id,
            status=payout.status,
            amount=payout.amount,
            start=payout.start,
            end=payout.end,
        ),
        subject=payout.salesman_id,
    )
