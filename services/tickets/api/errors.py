"""The tickets domain's errors as HTTP problems: the one place they are mapped.

A ticket not found, or not the caller's to see, is ``404``, as is a job tickets has not heard of;
a command the ticket's own state does not allow is ``409`` ``conflict``. A policy refusal is
``409`` ``policy-denied`` (mapped by the platform), naming every rule that refused.
"""

from __future__ import annotations

from services.tickets.domain import (
    CustomerNotFound,
    JobNotKnown,
    PlanNotFound,
    TicketNotFound,
    TicketRuleBroken,
)
from shared.platform.http.problems import Conflict, NotFound, Problem

ERRORS: dict[type[Exception], type[Problem]] = {
    CustomerNotFound: NotFound,
    TicketNotFound: NotFound,
    JobNotKnown: NotFound,
    PlanNotFound: NotFound,
    TicketRuleBroken: Conflict,
}
