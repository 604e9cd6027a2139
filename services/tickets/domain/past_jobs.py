"""What tickets knows of jobs, from jobs' events: a ticket for a past job takes its customer,
address and trades from here, and a callback shows which crew did the original work.

``apply_job_event`` folds one of jobs' events into what is known of the job; the consumer folds
a whole run of them in order and writes the results at once.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.tickets.domain.values import Customer
from shared.contracts.base import EventData
from shared.contracts.jobs import CrewAssigned, CustomerContact, JobSold, LeadCreated


class PastJob(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str
    job_number: str | None = None
    customer: Customer
    trades: tuple[str, ...] = Field(default_factory=tuple)
    crew_id: str | None = Field(None, description="The crew that installed the job.")
    crew_name: str | None = None
    crew_member_ids: tuple[str, ...] = ()


def customer_of(contact: CustomerContact) -> Customer:
    return Customer(
        name=contact.name,
        property_address=contact.property_address,
        phone=contact.phone,
        email=contact.email,
    )


def apply_job_event(known: PastJob | None, event: EventData) -> PastJob | None:
    """The job as known after ``event``; None for an event that tells tickets nothing (a lead
    of a job already known: a replay)."""
    match event:
        case LeadCreated() if known is None:
            customer = Customer(
                name=event.customer_name,
                property_address=event.property_address,
                phone=event.phone,
                email=event.email,
            )
            return PastJob(job_id=event.job_id, customer=customer)
        case JobSold():
            return _known(known, event.job_id, event.customer).model_copy(
                update={"job_number": event.job_number, "trades": tuple(event.trades)}
            )
        case CrewAssigned():
            return _known(known, event.job_id, event.customer).model_copy(
                update={
                    "crew_id": event.crew_id,
                    "crew_name": event.crew_name,
                    "crew_member_ids": tuple(event.member_ids),
                }
            )
    return None


def _known(known: PastJob | None, job_id: str, contact: CustomerContact) -> PastJob:
    """The job with its customer as the event gives it (a sale tickets heard of without its
    lead, when tickets started later, is kept all the same)."""
    customer = customer_of(contact)
    if known is None:
        return PastJob(job_id=job_id, customer=customer)
    return known.model_copy(update={"customer": customer})
