"""The tickets domain's errors. Handlers raise these and nothing HTTP; ``api/errors.py`` says
which problem each is answered with."""

from __future__ import annotations


class TicketRuleBroken(Exception):
    """The command cannot apply to the ticket as it is (answered 409); nothing changed."""


class TicketNotFound(LookupError):
    """No such ticket in the caller's tenant, or one not assigned to the technician or installer
    asking: both look the same, so a ticket's existence never leaks (answered 404)."""


class JobNotKnown(LookupError):
    """The ticket names a job tickets has not heard of from jobs' events (answered 404)."""


class PlanNotFound(LookupError):
    """No such weekly plan in the caller's tenant (answered 404)."""
