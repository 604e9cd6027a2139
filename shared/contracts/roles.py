"""Who a caller can be: the roles a token carries, used alike by the HTTP guards and by policy
facts (``actor.roles``)."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from shared.contracts.base import Facts

Role = Literal[
    "sales",
    "csa",
    "production",
    "production_manager",
    "trade_manager",
    "project_manager",
    "installer",
    "technician",
    "service_manager",  # the service department's supervisor: tickets, queues, technicians
    "billing",
    "billing_manager",
    "admin",
]
ROLES = frozenset(get_args(Role))
# Installers and technicians: the field. They see only the work assigned to them.
FIELD_ROLES = frozenset({"installer", "technician"})
OFFICE_ROLES = ROLES - FIELD_ROLES


class Actor(Facts):
    """Who asks, as a decision point's facts see them."""

    roles: list[Role] = Field(description="The roles of the user asking (from their token).")
