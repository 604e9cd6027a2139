"""What the tickets routers share: the role groups their access tables are made of.

Who may call a route is its router's ``ACCESS`` table (admin always may); the policy layer
decides the business rules within. Technicians and installers see only their own tickets.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from shared.contracts.roles import FIELD_ROLES, OFFICE_ROLES, ROLES

# A name in a path that becomes a stored identifier (a technician, a trade or product).
PathId = Annotated[str, Path(min_length=1, max_length=100)]

# The service department's office: who opens, schedules, assigns and follows up tickets.
SERVICE_OFFICE = ("service_manager", "csa", "production", "production_manager", "trade_manager")
FIELD = tuple(sorted(FIELD_ROLES))
OFFICE = OFFICE_ROLES
ANYONE = ROLES
