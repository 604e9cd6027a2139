"""Delivery reports as the email provider posts them (Mailgun's event webhook shape), signed with
a key: for the tests and the benchmark."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.messaging.domain.webhooks import sign


def example(
    key: str,
    message_id: str,
    event: str,
    *,
    now: datetime,
    severity: str | None = None,
    recipient: str = "someone@example.com",
) -> dict[str, Any]:
    """A signed post as the provider sends it."""
    timestamp, token = str(int(now.timestamp())), uuid.uuid4().hex
    data: dict[str, Any] = {
        "id": f"{event}-{token[:16]}",
        "event": event,
        "timestamp": now.timestamp(),
        "recipient": recipient,
        "message": {"headers": {"message-id": message_id}},
    }
    if severity:
        data["severity"] = severity
        data["delivery-status"] = {"code": 550, "message": "mailbox does not exist"}
    return {
        "signature": {
            "timestamp": timestamp,
            "token": token,
            "signature": sign(key, timestamp, token),
        },
        "event-data": data,
    }
