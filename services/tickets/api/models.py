"""Request and response models of the tickets API."""

from __future__ import annotations

from services.tickets.domain import JobCustomerRecord

# Answered as kept: the domain record is the response.
CustomerView = JobCustomerRecord

__all__ = ["CustomerView"]
