"""Request and response models of the messaging API."""

from __future__ import annotations

from services.messaging.domain import ThreadRecord

# Answered as kept: the domain record is the response.
ThreadView = ThreadRecord

__all__ = ["ThreadView"]
