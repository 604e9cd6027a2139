"""The lender's link to a customer applying for financing (billing's
``billing.financing_application_sent.v1``, seed 002's Hearth): an email naming the lender and
carrying the link, queued in the consumer's transaction, once per application.

Messaging has no text (SMS) gateway: billing refuses the ``text`` channel before it publishes,
so an event asking for a text is logged and nothing is sent.
"""

from __future__ import annotations

import logging
import uuid

from services.messaging.domain.email import OutgoingEmail
from services.messaging.ports import MessagingUnitOfWork
from shared.contracts.billing import FinancingApplicationSent
from shared.platform.messaging.envelope import Envelope

NAMESPACE = uuid.UUID("3d0c7a9e-1f52-4b8e-9a61-0e7b2c4d5f18")

log = logging.getLogger(__name__)


async def send_application_link(
    uow: MessagingUnitOfWork, envelope: Envelope, sent: FinancingApplicationSent
) -> None:
    if sent.channel != "email" or not sent.customer_email:
        log.warning(
            "financing application %s: no %s to send the lender's link by (no text gateway)",
            sent.application_id,
            sent.channel,
        )
        return
    await uow.repos.notices.queue(
        application_email(uow.tenant_id, sent), send_at=envelope.time, now=envelope.time
    )


def application_email(tenant_id: str, sent: FinancingApplicationSent) -> OutgoingEmail:
    assert sent.customer_email is not None
    return OutgoingEmail(
        # Its id follows from the application: a redelivered event queues nothing new.
        email_id=str(uuid.uuid5(NAMESPACE, f"{tenant_id}:{sent.application_id}")),
        tenant_id=tenant_id,
        to_user=f"customer:{sent.job_id}",
        to_address=sent.customer_email,
        subject=f"Financing your balance with {sent.lender}",
        body=(
            f"Hello {sent.customer_name},\n\n"
            f"As we discussed, you can finance the balance of ${sent.amount} on your job "
            f"through {sent.lender}. Please complete your application here:\n\n"
            f"{sent.link}\n\n"
            f"{sent.lender} will tell you whether you qualify and, if you do, show you the "
            "offers to choose from. Once you have chosen, they will send you a check: please "
            "send it on to us to pay the balance."
        ),
        kind="financing",
    )
