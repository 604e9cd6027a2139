"""The end-of-day move on the real servers, with the tickets service's own composition root and
policy layer: two runs at once (two replicas, or the clock and a supervisor) move the day's
undone follow-ups once, to the next business day of the tenant's calendar (Christmas skipped)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.tickets import app as tickets_app
from services.tickets.domain import Customer, LineItem
from services.tickets.domain.commands import OpenTicket
from services.tickets.handlers import end_of_day, tickets
from services.tickets.ports import TicketsDeps
from shared.platform.http.auth import Caller
from shared.platform.service import Service
from tests.support.harness import create_topics, running, settings_for

SUE = Caller(user_id="sue", tenant_id="acme", roles=frozenset({"service_manager"}))
TUESDAY = datetime(2026, 12, 22, 15, 0, tzinfo=UTC)  # two business days later: Thursday 24th


@pytest.fixture
async def service(
    namespace: str, database_url: str, bootstrap_servers: str
) -> AsyncIterator[Service[TicketsDeps]]:
    settings = settings_for("tickets", f"{namespace}eod", database_url, bootstrap_servers)
    await create_topics(settings, "tickets", "jobs")
    built = tickets_app.build(settings)
    built.deps.clock = lambda: TUESDAY
    async with running(built.platform, consume=False):  # the handlers are applied directly
        yield built


async def test_two_runs_at_once_move_the_days_follow_ups_once_past_christmas(
    service: Service[TicketsDeps],
) -> None:
    deps = service.deps
    opened = await tickets.open_ticket(
        deps,
        SUE,
        OpenTicket(
            type="service_call",
            customer=Customer(name="Dana Reyes", property_address="12 Elm St"),
            line_items=[LineItem(description="Visit", unit_price=Decimal("95.00"))],
            queue="issues",
        ),
    )
    thursday = date(2026, 12, 24)
    assert opened.follow_up.next_due == thursday

    runs = await asyncio.gather(
        end_of_day.move_undone_follow_ups(deps, "acme", thursday),
        end_of_day.move_undone_follow_ups(deps, "acme", thursday, by="sue"),
    )
    assert sorted(ran_now for _, ran_now in runs) == [False, True]
    assert {run.moved for run, _ in runs} == {1}
    moved = await tickets.get_ticket(deps, SUE, opened.ticket_id)
    assert moved.follow_up.next_due == date(2026, 12, 28)  # Friday the 25th is Christmas

    # The gauges the service clock refreshes, counted on the database.
    async with service.platform.uow_factory() as transaction:
        await tickets_app.refresh_gauges(transaction.connection, deps.metrics, date(2026, 12, 29))
    registry = service.platform.metrics.registry
    labels = {"queue": "issues", "type": "service_call", "status": "new"}
    assert registry.get_sample_value("roofline_tickets_open", labels) == 1
    assert registry.get_sample_value("roofline_tickets_follow_ups_overdue") == 1
