"""The tenant's routing table: which product admin takes the tickets of a trade or product
(seed 001, "Admin Assignment: route tickets to product admins")."""

from __future__ import annotations

from services.tickets.domain.commands import RouteToAdmin
from services.tickets.ports import TicketsDeps


async def route(deps: TicketsDeps, tenant_id: str, command: RouteToAdmin) -> dict[str, str]:
    async with deps.unit_of_work(tenant_id) as uow:
        await uow.repos.routing.route(command.key, command.admin_id)
        table = await uow.repos.routing.table()
        await uow.commit()
    return table


async def routing_table(deps: TicketsDeps, tenant_id: str) -> dict[str, str]:
    async with deps.unit_of_work(tenant_id) as uow:
        return await uow.repos.routing.table()
