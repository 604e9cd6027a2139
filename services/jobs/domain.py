"""Jobs domain (thin slice for now): a lead, and which services have acknowledged it.

Pure: no I/O. The full milestone pipeline (seed 004) and production workflow replace this with
issue 5.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from shared.catalog.jobs import LeadCreated

# The services that answer a new lead with an event of their own, and the event each sends.
ACKNOWLEDGING_SERVICES = ("billing", "messaging", "commissions", "tickets")


@dataclass
class Lead:
    tenant_id: str
    job_id: str
    customer_name: str
    property_address: str
    salesman_id: str
    phone: str | None = None
    email: str | None = None
    milestone: str = "lead"
    created_at: datetime | None = None
    acknowledged_by: dict[str, datetime] = field(default_factory=dict)

    @property
    def awaiting(self) -> list[str]:
        """Services that have not yet answered the lead, in a stable order."""
        return [name for name in ACKNOWLEDGING_SERVICES if name not in self.acknowledged_by]

    @classmethod
    def create(
        cls,
        *,
        tenant_id: str,
        customer_name: str,
        property_address: str,
        salesman_id: str,
        phone: str | None = None,
        email: str | None = None,
    ) -> tuple[Lead, LeadCreated]:
        lead = cls(
            tenant_id=tenant_id,
            job_id=str(uuid.uuid4()),
            customer_name=customer_name.strip(),
            property_address=property_address.strip(),
            salesman_id=salesman_id,
            phone=phone,
            email=email,
        )
        event = LeadCreated(
            job_id=lead.job_id,
            customer_name=lead.customer_name,
            phone=phone,
            email=email,
            property_address=lead.property_address,
            salesman_id=salesman_id,
        )
        return lead, event
