"""The tickets domain. Pure: no I/O, no framework.

``ticket.py`` is the aggregate (status flow, assignment, line items, the tracking queues and
their follow-up calls); ``values.py`` its value objects; ``past_jobs.py`` what tickets keeps of
jobs from their events; ``facts.py`` the facts it gives the policy layer; ``errors.py`` what its
commands raise. ``customers.py`` is a job's customer as the office reads it.
"""

from services.tickets.domain.customers import CustomerNotFound, JobCustomerRecord
from services.tickets.domain.errors import (
    JobNotKnown,
    PlanNotFound,
    TicketNotFound,
    TicketRuleBroken,
)
from services.tickets.domain.past_jobs import PastJob
from services.tickets.domain.ticket import Ticket
from services.tickets.domain.values import (
    Assignment,
    Customer,
    FollowUp,
    LineItem,
    StatusChange,
    Visit,
)

__all__ = [
    "Assignment",
    "Customer",
    "CustomerNotFound",
    "FollowUp",
    "JobCustomerRecord",
    "JobNotKnown",
    "LineItem",
    "PastJob",
    "PlanNotFound",
    "StatusChange",
    "Ticket",
    "TicketNotFound",
    "TicketRuleBroken",
    "Visit",
]
