"""The end-of-day reassignment (seed 003: "Issues and unapproved work need to be moved end of
day via the reassign task option"): at each tenant's configured local time, the follow-ups due
that day or before and still undone move to the next business day, for the queues policy
``end_of_day`` names (``tickets.end_of_day``; the policy layer's tenant calendar says which day
is next). Also a supervisor's command.

Once per tenant and day, whatever runs it: the run's row is claimed in the same transaction as the
moves, so a second replica, a retry after a restart, or the supervisor's command finds it taken
and moves nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from services.tickets.domain import facts
from services.tickets.domain.end_of_day import EndOfDay, EndOfDayRun
from services.tickets.handlers.calls import end_pending_call
from services.tickets.handlers.common import store
from services.tickets.ports import TicketsDeps

CLOCK = "end of day"
# The most tickets one run moves (a tenant's whole queues; the rest would wait a day).
MOST_MOVED = 10_000


async def move_undone_follow_ups(
    deps: TicketsDeps, tenant_id: str, day: date, *, by: str = CLOCK
) -> tuple[EndOfDayRun, bool]:
    """Move ``day``'s undone follow-ups; (the day's run, whether this call made it)."""
    async with deps.unit_of_work(tenant_id) as uow:
        if not await uow.repos.end_of_day.claim(day, by=by, at=deps.clock()):
            done = await uow.repos.end_of_day.run(day)
            assert done is not None
            return done, False
        # Business days are counted from the tenant's day, whatever the UTC date is now.
        anchor = datetime.combine(day, time(12), tzinfo=UTC)
        moved = 0
        # Waiting for a ticket a command holds: the day's run happens once, and skipping one
        # would leave its follow-up to be counted missed tomorrow.
        undone = await uow.repos.tickets.follow_ups_due(
            day + timedelta(days=1), limit=MOST_MOVED, skip_locked=False
        )
        for ticket_id in undone:
            ticket = await uow.repos.tickets.get(ticket_id, for_update=True)
            if ticket is None or ticket.queue is None:
                continue
            decision = await deps.policy.decide(
                uow.transaction,
                "tickets.end_of_day",
                facts.end_of_day(ticket),
                tenant=tenant_id,
                subject=ticket_id,
                source=by,
            )
            if not decision.of("schedule"):
                continue  # not a queue whose follow-ups move
            await end_pending_call(deps, uow, ticket.ticket_id, status="canceled")
            due = await deps.policy.schedule(
                uow.transaction, decision, subject=ticket_id, now=anchor
            )
            await store(deps, uow, ticket, ticket.move_follow_up(min(due).date(), by=by))
            moved += 1
        await uow.repos.end_of_day.finish(day, moved)
        run = await uow.repos.end_of_day.run(day)
        await uow.commit()
    deps.metrics.end_of_day_moved.inc(moved)
    assert run is not None
    return run, True


async def run_now(deps: TicketsDeps, tenant_id: str, by: str) -> tuple[EndOfDayRun, bool]:
    """The supervisor's command: today's move (the tenant's local today), now."""
    config = await read_config(deps, tenant_id)
    today = config.local_now(deps.clock()).date() if config else deps.clock().date()
    return await move_undone_follow_ups(deps, tenant_id, today, by=by)


async def read_config(deps: TicketsDeps, tenant_id: str) -> EndOfDay | None:
    async with deps.unit_of_work(tenant_id) as uow:
        return await uow.repos.end_of_day.config()


async def configure(deps: TicketsDeps, tenant_id: str, config: EndOfDay) -> EndOfDay:
    async with deps.unit_of_work(tenant_id) as uow:
        await uow.repos.end_of_day.configure(config)
        await uow.commit()
    return config


async def when_due(deps: TicketsDeps, configs: dict[str, EndOfDay]) -> int:
    """The clock's round: each tenant whose end of day has come gets today's move (once);
    returns how many tickets moved."""
    now = deps.clock()
    moved = 0
    for tenant_id, config in configs.items():
        if config.has_passed(now):
            run, ran_now = await move_undone_follow_ups(
                deps, tenant_id, config.local_now(now).date()
            )
            moved += run.moved if ran_now else 0
    return moved
