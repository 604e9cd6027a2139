"""Delivery reports from the email provider, in the shape Mailgun posts its event webhooks
(``{"signature": {timestamp, token, signature}, "event-data": {...}}``; other providers' relays
can post the same): delivered, failed (a ``permanent`` failure is a hard bounce; ``temporary``
is a deferral), opened. The signature is an HMAC-SHA256 of timestamp + token with the signing
key; a stale timestamp is refused, so a captured post cannot be replayed later."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ReportKind = Literal["delivered", "bounced", "deferred", "opened"]


class WebhookSignature(BaseModel):
    timestamp: str = Field(min_length=1, max_length=20)
    token: str = Field(min_length=1, max_length=200)
    signature: str = Field(min_length=64, max_length=64)


class MessageHeaders(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    message_id: str = Field(alias="message-id", min_length=1)


class EventMessage(BaseModel):
    headers: MessageHeaders


class DeliveryStatus(BaseModel):
    code: int | None = None
    message: str | None = None
    description: str | None = None


class EventData(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(min_length=1, max_length=200, description="The provider's event id.")
    event: str
    timestamp: float = Field(ge=0, le=4_102_444_800, description="Unix time (before 2100).")
    recipient: str
    severity: str | None = None
    reason: str | None = None
    message: EventMessage
    delivery_status: DeliveryStatus | None = Field(None, alias="delivery-status")


class ProviderWebhook(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    signature: WebhookSignature
    event_data: EventData = Field(alias="event-data")


class DeliveryReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    email_id: str
    kind: ReportKind
    recipient: str
    at: datetime
    provider_event_id: str
    detail: str | None


class BadSignature(Exception):
    """Not signed with our key, or signed too long ago."""


def sign(key: str, timestamp: str, token: str) -> str:
    return hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()


def verify(key: str, signature: WebhookSignature, now: datetime, tolerance: timedelta) -> None:
    expected = sign(key, signature.timestamp, signature.token)
    if not hmac.compare_digest(expected.encode(), signature.signature.encode()):
        raise BadSignature("the webhook signature does not match the signing key")
    try:
        signed_at = datetime.fromtimestamp(int(signature.timestamp), UTC)
    except (ValueError, OverflowError, OSError):
        raise BadSignature("the webhook timestamp is not a Unix time") from None
    if abs(now - signed_at) > tolerance:
        raise BadSignature(f"the webhook was signed at {signed_at.isoformat()}: too long ago")


def report_of(post: ProviderWebhook) -> DeliveryReport | None:
    """The report for one of our emails, or None for an event we do not track (e.g. clicked)."""
    data = post.event_data
    kind: ReportKind
    if data.event == "delivered":
        kind = "delivered"
    elif data.event == "opened":
        kind = "opened"
    elif data.event == "failed":
        kind = "bounced" if data.severity == "permanent" else "deferred"
    else:
        return None
    status = data.delivery_status
    detail = " ".join(
        str(part)
        for part in (
            status and status.code,
            (status and (status.message or status.description)) or data.reason,
        )
        if part
    )
    return DeliveryReport(
        email_id=email_id_of(data.message.headers.message_id),
        kind=kind,
        recipient=data.recipient,
        at=datetime.fromtimestamp(data.timestamp, UTC),
        provider_event_id=data.id,
        detail=detail or None,
    )


def email_id_of(message_id: str) -> str:
    """Our Message-ID is ``<email_id@roofline>``; providers report it with or without <>."""
    return message_id.strip().strip("<>").split("@", 1)[0]
