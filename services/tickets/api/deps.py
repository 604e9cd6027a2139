"""What the tickets routes are given by the composition root (``services/tickets/app.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.tickets.ports import TicketsDeps
from shared.platform.http.provided import Provided

tickets_deps = Provided[TicketsDeps]("tickets dependencies")
Deps = Annotated[TicketsDeps, Depends(tickets_deps)]
