"""The billing handlers against the fakes (tests/unit/billing/fakes.py) and the shipped policies:
money kept once per Idempotency-Key and reversed once, the final payment reported once and
undone, collections held and released by the policy, refusals escalated once, depreciation
released for completed line items only, returned checks mailed back only after the call, the
carrier's deadline told once, and post-install financing booked once. A refused command leaves
nothing written but its decision."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.billing.domain import IdempotencyKeyReused, PaymentRefused
from services.billing.domain.collections import Decide, EscalationNotFound, NewConcession, Refusal
from services.billing.domain.financing import (
    FinancingStep,
    FundsReceived,
    NewFinancingApplication,
    Offer,
)
from services.billing.domain.insurance import ClaimIn, NothingToRelease
from services.billing.domain.ledger import NewPayment, NewReversal
from services.billing.domain.returned_checks import (
    CustomerCall,
    FollowUp,
    MailedBack,
    NewReturnedCheck,
    ReturnedCheckStep,
)
from services.billing.handlers import (
    collections,
    financing,
    folders,
    insurance,
    payments,
    returned_checks,
)
from services.billing.ports import BillingDeps
from shared.contracts.base import EventData
from shared.contracts.billing import (
    CheckMailedBack,
    CheckReturned,
    CollectionHeld,
    CollectionReleased,
    ConcessionGranted,
    DepreciationReleased,
    EscalationDecided,
    FileEscalated,
    FinalPaymentReceived,
    FinalPaymentReversed,
    FinancingApplicationSent,
    MoneyRecorded,
    PaymentRefusedByCustomer,
    ReturnedCheckClosed,
)
from shared.contracts.jobs import ContractSigned, LeadCreated, LineItemData, LineItemsChanged
from shared.contracts.jobs import MilestoneChanged as Moved
from shared.contracts.messaging import SurveyAnswered
from shared.contracts.tickets import IssueOpened, IssueResolved, TicketCustomer
from shared.platform.http.auth import Caller
from shared.platform.messaging.envelope import Envelope, encode_event
from shared.policy.service import PolicyRefused
from tests.support.fake_policy import FakePolicy
from tests.unit.billing.fakes import FakeLender, State, events_of, fake_deps

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
BEA = Caller(user_id="bea", tenant_id="acme", roles=frozenset({"billing"}))
PAM = Caller(user_id="pam", tenant_id="acme", roles=frozenset({"production_manager"}))
MIA = Caller(user_id="mia", tenant_id="acme", roles=frozenset({"billing_manager"}))
DANA = TicketCustomer(name="Dana Reyes", property_address="12 Elm St", email="dana@home.example")


class Billing:
    """The dependencies on the fakes, with what the test reads back."""

    def __init__(self, lender: FakeLender | None = None) -> None:
        self.deps, self.state, self.policy, self.clock = fake_deps(NOW, lender=lender)

    def later(self, minutes: int = 1) -> None:
        """Move the clock on (records made at the same instant are ordered by their ids)."""
        self.clock.now += timedelta(minutes=minutes)


@pytest.fixture
def billing() -> Billing:
    return Billing()


def envelope(event: EventData, subject: str) -> Envelope:
    outgoing = encode_event(
        event, source="jobs", subject=subject, tenant_id="acme", max_bytes=1_000_000
    )
    return Envelope.from_bytes(outgoing.body, 1_000_000)


async def consume(deps: BillingDeps, handle: Any, event: EventData, subject: str) -> Envelope:
    """Apply another service's event as billing's consumer does: in one unit of work."""
    delivered = envelope(event, subject)
    async with deps.unit_of_work("acme") as uow:
        await handle(uow, delivered, event)
        await uow.commit()
    return delivered


async def jobs_event(uow: Any, envelope: Envelope, event: Any) -> None:
    """A jobs' event as billing's consumer hands it over: a run of one."""
    await folders.project_jobs(uow, [(envelope, event)])


def standing(deps: BillingDeps) -> Any:
    """Tickets' or messaging's event as billing's consumer hands it over: a run of one."""

    async def one(uow: Any, envelope: Envelope, event: Any) -> None:
        await collections.project_standing(deps.policy, uow, [(envelope, event)])

    return one


async def a_signed_job(deps: BillingDeps, job_id: str = "job-1", price: str = "12000.00") -> None:
    lead = LeadCreated(
        job_id=job_id,
        customer_name="Dana Reyes",
        email="dana@home.example",
        property_address="12 Elm St",
        salesman_id="sam",
    )
    await consume(deps, jobs_event, lead, job_id)
    signed = ContractSigned(
        job_id=job_id, signed_on=date(2026, 11, 20), contract_price=Decimal(price), by="sam"
    )
    await consume(deps, jobs_event, signed, job_id)


def completed(job_id: str = "job-1") -> Moved:
    return Moved(job_id=job_id, from_milestone="installed", to_milestone="completed", by="pm")


def payment(amount: str, on: date = date(2026, 12, 1), method: str = "check") -> NewPayment:
    return NewPayment.model_validate({"amount": amount, "received_on": on, "method": method})


async def pay(billing: Billing, amount: str, key: str | None = None) -> dict[str, Any]:
    billing.later()
    status, answer = await payments.record_payment(billing.deps, BEA, "job-1", payment(amount), key)
    assert status == 201
    return answer


async def balance(billing: Billing, job_id: str = "job-1") -> Decimal:
    return (await folders.read_folder(billing.deps, "acme", job_id)).balance.balance


@contextlib.contextmanager
def only_decisions_kept(
    state: State, policy: FakePolicy, *decided: tuple[str, str]
) -> Iterator[None]:
    """The command changes nothing: no row, no event; the decisions it logged, if any, are
    the ones given (decision point, outcome)."""
    before, logged = copy.deepcopy(state), len(policy.log)
    yield
    assert state == before
    assert [(d.decision_point, d.outcome) for d in policy.log[logged:]] == list(decided)


# -- payments and reversals (handlers/payments.py) --------------------------------------------


async def test_a_payment_is_kept_once_per_idempotency_key(billing: Billing) -> None:
    await a_signed_job(billing.deps)
    first = await pay(billing, "1000.00", key="key-1")
    again = await pay(billing, "1000.00", key="key-1")  # the client's retry
    assert again == first
    assert first["balance"]["balance"] == "11000.00"
    assert await balance(billing) == Decimal("11000.00")
    (recorded,) = events_of(billing.state, MoneyRecorded)
    assert (recorded.kind, recorded.amount, recorded.balance) == (
        "payment",
        Decimal("1000.00"),
        Decimal("11000.00"),
    )

    with (
        only_decisions_kept(billing.state, billing.policy),
        pytest.raises(IdempotencyKeyReused, match="'key-1' was used for another request"),
    ):
        await pay(billing, "1500.00", key="key-1")
    await pay(billing, "1500.00", key="key-2")
    assert await balance(billing) == Decimal("9500.00")


async def test_a_reversal_owes_the_payment_again_once(billing: Billing) -> None:
    await a_signed_job(billing.deps)
    paid = (await pay(billing, "2500.00"))["record"]["record_id"]
    undo = NewReversal(reversed_on=date(2026, 12, 5), reason="returned check: not signed")
    billing.later()
    _, answer = await payments.reverse_payment(billing.deps, BEA, "job-1", paid, undo, None)
    assert answer["record"]["reverses"] == paid
    assert answer["record"]["amount"] == "2500.00" and answer["record"]["method"] == "check"
    assert await balance(billing) == Decimal("12000.00")

    for payment_id, why in (
        (paid, f"payment {paid} was reversed already"),
        ("no-such", "no such payment on this job"),
    ):
        with (
            only_decisions_kept(billing.state, billing.policy),
            pytest.raises(PaymentRefused, match=why),
        ):
            await payments.reverse_payment(billing.deps, BEA, "job-1", payment_id, undo, None)
    assert [e.kind for e in events_of(billing.state, MoneyRecorded)] == ["payment", "reversal"]
    timeline = await collections.timeline(billing.deps, BEA, "job-1")
    assert [line.text for line in timeline] == [
        "payment 2500.00 (check); balance 9500.00",
        "reversal 2500.00 (check): returned check: not signed; balance 12000.00",
    ]


# -- the final payment (handlers/books.py) ----------------------------------------------------


async def test_the_final_payment_is_published_once_and_undone_by_a_reversal(
    billing: Billing,
) -> None:
    await a_signed_job(billing.deps, price="10000.00")
    await consume(billing.deps, jobs_event, completed(), "job-1")
    await consume(billing.deps, jobs_event, completed(), "job-1")  # a replay
    await pay(billing, "6000.00")
    assert events_of(billing.state, FinalPaymentReceived) == []
    last = (await pay(billing, "4000.00"))["record"]["record_id"]
    await pay(billing, "25.00")  # paid over: released already, not reported again
    (final,) = events_of(billing.state, FinalPaymentReceived)
    assert (final.job_id, final.amount, final.received_on) == (
        "job-1",
        Decimal("10000.00"),
        date(2026, 12, 1),
    )
    view = await folders.read_folder(billing.deps, "acme", "job-1")
    assert view.folder.released_on == date(2026, 12, 1)

    undo = NewReversal(reversed_on=date(2026, 12, 8), reason="charge-back")
    billing.later()
    await payments.reverse_payment(billing.deps, BEA, "job-1", last, undo, None)
    (reversed_,) = events_of(billing.state, FinalPaymentReversed)
    assert (reversed_.balance, reversed_.reason) == (Decimal("3975.00"), "charge-back")
    assert (await folders.read_folder(billing.deps, "acme", "job-1")).folder.released_on is None
    assert len(events_of(billing.state, FinalPaymentReceived)) == 1


async def test_a_job_paid_before_completion_is_released_by_its_completion(
    billing: Billing,
) -> None:
    await a_signed_job(billing.deps, price="10000.00")
    await pay(billing, "10000.00")
    assert events_of(billing.state, FinalPaymentReceived) == []  # not completed yet
    delivered = await consume(billing.deps, jobs_event, completed(), "job-1")
    (released,) = [r for r in billing.state.events if isinstance(r.data, FinalPaymentReceived)]
    assert released.subject == "job-1" and released.causation_id == str(delivered.id)
    assert released.data.received_on == delivered.time.date()  # type: ignore[attr-defined]


# -- collections (handlers/collections.py and its consumer handlers) --------------------------


def issue(kind: str = "complaint", ticket_id: str = "t-1") -> IssueOpened:
    return IssueOpened.model_validate(
        {
            "ticket_id": ticket_id,
            "kind": kind,
            "job_id": "job-1",
            "customer": DANA,
            "note": "gutter leaks",
        }
    )


async def test_a_complaint_holds_collection_until_it_is_resolved(billing: Billing) -> None:
    deps, state = billing.deps, billing.state
    await a_signed_job(deps)
    await consume(deps, standing(deps), issue(), "job-1")
    (held,) = events_of(state, CollectionHeld)
    assert held.reasons == [
        "The customer has 1 open complaint(s): hold collection until it is resolved."
    ]
    folder = (await folders.read_folder(deps, "acme", "job-1")).folder
    assert folder.standing.held_since is not None
    assert billing.policy.log[-1].outcome == "hold"

    with (
        only_decisions_kept(state, billing.policy, (collections.COLLECT, "hold")),
        pytest.raises(PolicyRefused, match="1 open complaint") as refused,
    ):
        await collections.attempt_collection(deps, BEA, "job-1")
    assert [r["rule"] for r in refused.value.extensions["rules"]] == ["hold-open-complaint"]

    resolved = IssueResolved(
        ticket_id="t-1", kind="complaint", job_id="job-1", resolution="complete"
    )
    await consume(deps, standing(deps), resolved, "job-1")
    (released,) = events_of(state, CollectionReleased)
    assert released.reason == "repairs complete: collection may go ahead"
    attempt = await collections.attempt_collection(deps, BEA, "job-1")
    assert (attempt.balance, attempt.decision) == (Decimal("12000.00"), "allow")
    timeline = await collections.timeline(deps, BEA, "job-1")
    assert [line.kind for line in timeline] == ["hold", "release", "collection_attempt"]


async def test_a_low_rating_holds_only_while_repairs_are_open(billing: Billing) -> None:
    deps, state = billing.deps, billing.state
    await a_signed_job(deps)
    answered = SurveyAnswered(
        survey_id="s-1", subject="job", job_id="job-1", rating=1, form_version=0, answered_at=NOW
    )
    await consume(deps, standing(deps), answered, "job-1")
    assert events_of(state, CollectionHeld) == []  # repairs complete: nothing to hold for
    assert (await folders.read_folder(deps, "acme", "job-1")).folder.standing.rating == 1
    await consume(deps, standing(deps), issue("field_issue"), "job-1")
    (held,) = events_of(state, CollectionHeld)
    assert held.reasons == [
        "Repairs are still open for this customer; hold collection until they are complete.",
        "The customer rated us 1/5: hold collection until repairs are complete.",
    ]


async def test_a_refusal_goes_to_the_billing_manager_once_after_repairs_and_a_concession(
    billing: Billing,
) -> None:
    deps, state, policy = billing.deps, billing.state, billing.policy
    await a_signed_job(deps)
    note = Refusal(note="Will not pay until the gutter is fixed")
    assert await collections.record_refusal(deps, BEA, "job-1", note) is None  # no concession yet
    assert [e.escalated for e in events_of(state, PaymentRefusedByCustomer)] == [False]

    asked = NewConcession(amount=Decimal("500.00"), reason="gutter repaired late")
    with (
        only_decisions_kept(state, policy, (collections.CONCEDE, "deny")),
        pytest.raises(PolicyRefused, match="granted by the production head"),
    ):
        await collections.grant_concession(deps, BEA, "job-1", asked)
    too_much = NewConcession(amount=Decimal("12000.01"), reason="everything")
    with (
        only_decisions_kept(state, policy, (collections.CONCEDE, "deny")),
        pytest.raises(PolicyRefused, match=r"more than the balance of 12000\.00"),
    ):
        await collections.grant_concession(deps, PAM, "job-1", too_much)
    billing.later()
    await collections.grant_concession(deps, PAM, "job-1", asked)
    (granted,) = events_of(state, ConcessionGranted)
    assert (granted.amount, granted.approved_by) == (Decimal("500.00"), "pam")
    assert await balance(billing) == Decimal("11500.00")

    billing.later()
    escalation = await collections.record_refusal(deps, BEA, "job-1", note)
    again = await collections.record_refusal(deps, BEA, "job-1", note)
    assert escalation is not None and again == escalation
    (escalated,) = events_of(state, FileEscalated)
    assert escalated.escalation_id == escalation.escalation_id
    assert [e.escalated for e in events_of(state, PaymentRefusedByCustomer)] == [False, True, True]
    folder = (await folders.read_folder(deps, "acme", "job-1")).folder
    assert folder.standing.refusals == 3

    billing.later()
    decided = Decide(decision="write_off", note="not worth a collection agency")
    closed = await collections.decide_escalation(deps, MIA, escalation.escalation_id, decided)
    assert (closed.decision, closed.decided_by) == ("write_off", "mia")
    assert await balance(billing) == Decimal("0.00")
    (decision,) = events_of(state, EscalationDecided)
    assert decision.decision == "write_off"
    assert await collections.escalations(deps, MIA, open_only=True) == []
    with (
        only_decisions_kept(state, policy),
        pytest.raises(EscalationNotFound, match=escalation.escalation_id),
    ):
        await collections.decide_escalation(deps, MIA, escalation.escalation_id, decided)


# -- depreciation (handlers/insurance.py) -----------------------------------------------------


def line_items(*done: str) -> LineItemsChanged:
    items = [
        LineItemData(
            line_item_id="li-1",
            description="Tear off and replace shingles",
            quantity=Decimal("32"),
            unit_price=Decimal("280.00"),
            total=Decimal("8960.00"),
            completed="li-1" in done,
        ),
        LineItemData(
            line_item_id="li-2",
            description="Seamless gutters",
            quantity=Decimal("1"),
            unit_price=Decimal("1200.00"),
            total=Decimal("1200.00"),
            completed="li-2" in done,
        ),
    ]
    return LineItemsChanged(
        job_id="job-1", change="completed", line_item_id="li-1", line_items=items
    )


CLAIM = ClaimIn.model_validate(
    {
        "carrier": "Acme Mutual",
        "claim_number": "AM-1001",
        "date_of_loss": "2025-12-21",
        "lines": [
            {
                "code": "1",
                "description": "Shingles",
                "rcv": "9000.00",
                "depreciation": "1840.50",
                "line_item_id": "li-1",
            },
            {
                "code": "2",
                "description": "Seamless gutters",
                "rcv": "1200.00",
                "depreciation": "300.00",
                "line_item_id": "li-2",
            },
        ],
    }
)


async def test_a_depreciation_release_withholds_the_line_not_completed(billing: Billing) -> None:
    deps, state, policy = billing.deps, billing.state, billing.policy
    await a_signed_job(deps)
    await consume(deps, jobs_event, line_items("li-1"), "job-1")
    await insurance.record_claim(deps, BEA, "job-1", CLAIM)

    invoice = await insurance.release_depreciation(deps, BEA, "job-1")
    assert (invoice.number, invoice.kind, invoice.total, invoice.due) == (
        "INV-2026-0001",
        "insurer",
        Decimal("1840.50"),
        Decimal("1840.50"),
    )
    assert [line.source for line in invoice.lines] == ["depreciation:1"]
    (released,) = events_of(state, DepreciationReleased)
    assert (released.released, released.withheld) == (["1"], ["2"])
    claim = await insurance.claim(deps, BEA, "job-1")
    assert (claim.released, claim.outstanding) == (Decimal("1840.50"), Decimal("300.00"))
    timeline = await collections.timeline(deps, BEA, "job-1")
    assert timeline[-1].text.endswith(
        "withheld: 2: 'Seamless gutters' is not completed: its depreciation is not released."
    )

    with (
        only_decisions_kept(state, policy, (insurance.RELEASE, "deny")),
        pytest.raises(NothingToRelease) as nothing,
    ):
        await insurance.release_depreciation(deps, BEA, "job-1")
    assert nothing.value.reasons == [
        "2: 'Seamless gutters' is not completed: its depreciation is not released."
    ]

    await consume(deps, jobs_event, line_items("li-1", "li-2"), "job-1")
    second = await insurance.release_depreciation(deps, BEA, "job-1")
    assert (second.number, second.total) == ("INV-2026-0002", Decimal("300.00"))
    assert (await insurance.claim(deps, BEA, "job-1")).outstanding == Decimal("0.00")


async def test_the_carriers_deadline_is_told_once_before_and_once_after(billing: Billing) -> None:
    deps, policy = billing.deps, billing.policy
    await a_signed_job(deps)
    await insurance.record_claim(deps, BEA, "job-1", CLAIM)  # due 2026-12-21: 20 days left
    assert await insurance.watch_deadlines(deps) == 1
    assert await insurance.watch_deadlines(deps) == 1  # the same answer: not told again
    watched = [d for d in policy.log if d.decision_point == insurance.WATCH]
    assert [d.outcome for d in watched] == ["notify"]
    billing.clock.now = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)
    await insurance.watch_deadlines(deps)
    await insurance.watch_deadlines(deps)
    watched = [d for d in policy.log if d.decision_point == insurance.WATCH]
    assert [d.outcome for d in watched] == ["notify", "escalate"]
    figures = await deps.figures()
    assert (figures.depreciation_outstanding, figures.depreciation_past_deadline) == (
        Decimal("2140.50"),
        1,
    )


# -- returned checks (handlers/returned_checks.py) --------------------------------------------


async def test_a_returned_check_goes_back_only_after_the_customer_was_called(
    billing: Billing,
) -> None:
    deps, state, policy = billing.deps, billing.state, billing.policy
    await a_signed_job(deps)
    paid = (await pay(billing, "1800.00"))["record"]["record_id"]
    new = NewReturnedCheck(
        reason="not_signed", amount=Decimal("1800.00"), payer="Dana Reyes", payment_id=paid
    )
    billing.later()
    check = await returned_checks.record_returned_check(deps, BEA, "job-1", new)
    (returned,) = events_of(state, CheckReturned)
    assert returned.reversed_payment == paid
    assert await balance(billing) == Decimal("12000.00")  # the check did not hold

    mailed = MailedBack(tracking_number="9400 1000 0000 0000 0001")
    with (
        only_decisions_kept(state, policy, (returned_checks.RETURN_CHECK, "require")),
        pytest.raises(PolicyRefused, match="Call the customer first") as refused,
    ):
        await returned_checks.mail_back(deps, BEA, check.returned_check_id, mailed)
    assert refused.value.extensions["missing"] == ["a call to the customer"]
    assert policy.deadlines == {}

    billing.later()
    call = CustomerCall(note="told her to sign it")
    await returned_checks.call_customer(deps, BEA, check.returned_check_id, call)
    billing.later()
    sent = await returned_checks.mail_back(deps, BEA, check.returned_check_id, mailed)
    assert sent.follow_up_by == billing.clock.now + timedelta(days=3)  # the policy's 3 days
    assert policy.deadlines == {check.returned_check_id: sent.follow_up_by}
    (told,) = events_of(state, CheckMailedBack)
    assert told.follow_up_by == sent.follow_up_by
    with only_decisions_kept(state, policy), pytest.raises(ReturnedCheckStep, match="already"):
        await returned_checks.mail_back(deps, BEA, check.returned_check_id, mailed)

    billing.later()
    done = FollowUp(delivered=True, outcome="delivered; she will sign and send it back")
    closed = await returned_checks.follow_up(deps, BEA, check.returned_check_id, done)
    assert closed.status == "closed" and policy.deadlines == {}
    assert len(events_of(state, ReturnedCheckClosed)) == 1
    assert await returned_checks.returned_checks(deps, BEA, open_only=True) == []


# -- post-install financing (handlers/financing.py) -------------------------------------------


async def test_financing_applies_for_the_balance_and_books_the_lenders_funds_once() -> None:
    lender = FakeLender()
    billing = Billing(lender)
    deps, state, policy = billing.deps, billing.state, billing.policy
    await a_signed_job(deps)
    await pay(billing, "3579.83")
    applied = await financing.apply_for_financing(
        deps, BEA, "job-1", NewFinancingApplication(channel="email")
    )
    (asked,) = lender.requests
    assert (asked.amount, asked.reference) == (Decimal("8420.17"), applied.application_id)
    (sent,) = events_of(state, FinancingApplicationSent)
    assert (sent.link, sent.customer_email) == (applied.link, "dana@home.example")

    offer = Offer(
        offer_id="o-60",
        amount=Decimal("8420.17"),
        apr=Decimal("7.99"),
        term_months=60,
        monthly_payment=Decimal("170.68"),
    )
    lender.qualify(applied.lender_ref, offer)
    assert (await financing.refresh(deps, BEA, applied.application_id)).status == "qualified"
    chosen = await financing.choose_offer(deps, BEA, applied.application_id, "o-60")
    assert chosen.status == "offer_selected"
    folder = (await folders.read_folder(deps, "acme", "job-1")).folder
    assert (folder.financing.loan_status, folder.financing.loan_amount) == (
        "approved",
        Decimal("8420.17"),
    )

    funds = FundsReceived(
        amount=Decimal("8420.17"), received_on=date(2026, 12, 9), reference="check 10452"
    )
    billing.later()
    booked = await financing.record_funds(deps, BEA, applied.application_id, funds)
    assert (booked.record.method, booked.balance.balance) == ("financing", Decimal("0.00"))
    with (
        only_decisions_kept(state, policy),
        pytest.raises(FinancingStep, match="recorded already"),
    ):
        await financing.record_funds(deps, BEA, applied.application_id, funds)
