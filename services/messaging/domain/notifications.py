"""The policy layer's ``notify`` and ``escalate`` outcomes, and deadlines passed, turned into
what reaches people: an inbox item for each person holding the named role in the tenant, and an
email to those who take email (after their quiet hours)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.messaging.domain.directory import Person
from services.messaging.domain.email import EmailKind, OutgoingEmail
from shared.contracts.policy import PolicyDeadlinePassed, PolicyDecisionMade

# The decision outcomes that refuse the action (a notify ``only_when_allowed`` is then not told).
REFUSING = ("deny", "hold", "require")
NAMESPACE = uuid.UUID("6f1c7b1e-93a4-4c0e-9d49-2f8d5f3c1a77")


@dataclass(frozen=True)
class Notice:
    """One thing to tell one role: ``key`` makes it once per cause, rule and person."""

    key: str
    role: str
    title: str
    body: str
    rule: str


@dataclass(frozen=True)
class Delivery:
    user_id: str
    item_id: str
    title: str
    body: str
    rule: str
    email: OutgoingEmail | None
    send_after: datetime


def notices_of_decision(event: PolicyDecisionMade) -> list[Notice]:
    return [
        Notice(
            key=f"{event.decision_id}:{rule.policy}:{rule.rule}",
            role=rule.to,
            title=f"{rule.outcome.capitalize()}: {event.decision_point} on {event.subject}",
            body=rule.reason,
            rule=f"{rule.policy}/{rule.rule}",
        )
        for rule in event.matched
        if rule.enforced
        and rule.to
        and rule.outcome in ("notify", "escalate")
        and not (rule.only_when_allowed and event.outcome in REFUSING)
    ]


def notices_of_deadline(event: PolicyDeadlinePassed) -> list[Notice]:
    if not event.escalate_to:
        return []
    return [
        Notice(
            key=f"deadline:{event.deadline_id}",
            role=event.escalate_to,
            title=f"Deadline passed: {event.task} for {event.subject}",
            body=f"{event.task} was due {event.due_at:%Y-%m-%d %H:%M} UTC ({event.policy}).",
            rule=f"{event.policy}/{event.rule}",
        )
    ]


def deliveries(
    notice: Notice, tenant_id: str, people: Sequence[Person], now: datetime
) -> list[Delivery]:
    """An inbox item for each holder of the role; an email too for those who take it."""
    delivered = []
    for person in people:
        if notice.role not in person.roles:
            continue
        item_id = str(uuid.uuid5(NAMESPACE, f"{tenant_id}:{notice.key}:{person.user_id}"))
        alert = Alert(
            key=notice.key,
            subject=notice.title,
            body=f"{notice.body}\n\n({notice.rule})",
            kind="notice",
        )
        email = email_to(person, alert, tenant_id)
        delivered.append(
            Delivery(
                person.user_id,
                item_id,
                notice.title,
                notice.body,
                notice.rule,
                email,
                send_after(person, now),
            )
        )
    return delivered


@dataclass(frozen=True)
class Alert:
    """An email alert (a new message, a new assignment): ``key`` makes it once per person."""

    key: str
    subject: str
    body: str
    kind: EmailKind


def email_to(person: Person, alert: Alert, tenant_id: str) -> OutgoingEmail | None:
    """The alert as an email to ``person``, if they take email (on, an address, no bounce)."""
    if not person.emailable or person.email is None:
        return None
    return OutgoingEmail(
        email_id=str(uuid.uuid5(NAMESPACE, f"{tenant_id}:{alert.key}:{person.user_id}")),
        tenant_id=tenant_id,
        to_user=person.user_id,
        to_address=person.email,
        subject=f"[Roofline] {alert.subject}",
        body=alert.body,
        kind=alert.kind,
    )


def send_after(person: Person, now: datetime) -> datetime:
    """Now, or when the person's quiet hours end."""
    quiet = person.quiet_hours.ends_after(now) if person.quiet_hours else None
    return quiet or now
