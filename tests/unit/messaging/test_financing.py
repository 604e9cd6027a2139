"""The lender's link reaches the customer applying for financing: billing's
``billing.financing_application_sent.v1`` queues one email (naming the lender, carrying the
link) to the customer, once however often the event is delivered; a text, with no gateway,
queues nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from services.messaging.handlers import financing
from shared.contracts.billing import FinancingApplicationSent
from tests.unit.messaging.fakes import fake_deps
from tests.unit.messaging.test_handlers import consume

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
SENT = FinancingApplicationSent(
    job_id="job-1",
    application_id="fa-1",
    lender="Hearth",
    link="https://lender.example/apply/app_1",
    channel="email",
    amount=Decimal("4250.00"),
    customer_name="Dana Reyes",
    customer_email="dana@home.example",
    customer_phone=None,
)


async def test_the_lenders_link_is_emailed_to_the_customer_once() -> None:
    deps, state, _, _ = fake_deps(NOW)
    await consume(deps, financing.send_application_link, SENT, "job-1")
    await consume(deps, financing.send_application_link, SENT, "job-1")  # redelivered
    ((email, status, _),) = state.emails.values()
    assert (status, email.kind, email.to_address) == ("queued", "financing", "dana@home.example")
    assert "Hearth" in email.subject and "Hearth" in email.body
    assert SENT.link in email.body and "$4250.00" in email.body


async def test_a_text_is_not_sent_without_a_gateway() -> None:
    deps, state, _, _ = fake_deps(NOW)
    await consume(
        deps, financing.send_application_link, SENT.model_copy(update={"channel": "text"}), "job-1"
    )
    assert state.emails == {}
