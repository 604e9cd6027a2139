"""What the tickets routes are given: the dependencies the composition root
(``services/tickets/app.py``) provides, and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.tickets.ports import TicketsDeps
from shared.platform.http.auth import Caller, current_caller
from shared.platform.http.provided import Provided

tickets_deps = Provided[TicketsDeps]("tickets dependencies")
Deps = Annotated[TicketsDeps, Depends(tickets_deps)]

# The authenticated caller; which roles may call a route is its router's ACCESS table's business.
AnyCaller = Annotated[Caller, Depends(current_caller)]
