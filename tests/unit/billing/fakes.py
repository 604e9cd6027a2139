"""Fakes for the billing handlers: in-memory stores over one ``State``, and a unit of work that
works on a copy of it, kept only when it commits (with the decisions it logged and the events it
recorded). tests/contract/test_billing_stores.py runs the same cases against these and the SQL
repositories (services/billing/tables.py), so what the handler tests trust is what PostgreSQL
does: replays refused the same way, numbers never repeated, results in the same order."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, NamedTuple, Self, TypeVar

from services.billing.domain import Folder, MoneyRecord, balance_of
from services.billing.domain.collections import Escalation, TimelineLine
from services.billing.domain.costs import Expense
from services.billing.domain.exports import (
    ExportRecord,
    ExportStatus,
    PaymentDocument,
    WorkOrder,
)
from services.billing.domain.financing import (
    FinancingApplication,
    LoanApplication,
    LoanRequest,
    LoanState,
    Offer,
)
from services.billing.domain.insurance import Claim
from services.billing.domain.invoices import Invoice
from services.billing.domain.returned_checks import ReturnedCheck
from services.billing.metrics import BillingMetrics
from services.billing.ports import BillingDeps, BillingFigures, BillingRepositories, KeptAnswer
from shared.contracts.base import EventData
from shared.platform.messaging.envelope import Envelope, encode_event
from shared.platform.settings import Settings
from shared.policy.decision import Decision
from tests.support.fake_policy import FakePolicy

ZERO = Decimal("0.00")
# The real unit of work encodes each event when it is recorded, so an event too large or not
# serializable fails the command; the fake does the same, at the settings' default limit.
MAX_MESSAGE_BYTES: int = Settings.model_fields["max_message_bytes"].default


class DuplicateRow(Exception):
    """An insert the SQL adapter's primary key or unique constraint refuses (an
    ``IntegrityError`` there): a second idempotency answer, expense or invoice number."""


class Recorded(NamedTuple):
    """An event a committed unit of work recorded (the outbox row the relay would publish)."""

    subject: str
    data: EventData
    causation_id: str | None


@dataclass
class State:
    """What the fake database holds for all tenants (keys start with the tenant)."""

    folders: dict[tuple[str, str], Folder] = field(default_factory=dict)
    # (tenant, record id) -> (job id, record): a record's id is unique in its tenant, not its job.
    records: dict[tuple[str, str], tuple[str, MoneyRecord]] = field(default_factory=dict)
    answers: dict[tuple[str, str], tuple[KeptAnswer, datetime]] = field(default_factory=dict)
    escalations: dict[tuple[str, str], Escalation] = field(default_factory=dict)
    # (tenant, job id, line) in the order added: the SQL table's identity column.
    timeline: list[tuple[str, str, TimelineLine]] = field(default_factory=list)
    expenses: dict[tuple[str, str], tuple[str, Expense]] = field(default_factory=dict)
    invoices: dict[tuple[str, str], Invoice] = field(default_factory=dict)
    # (tenant, "INV" or "CN") -> the last number handed out (one counter per tenant, all years).
    counters: dict[tuple[str, str], int] = field(default_factory=dict)
    claims: dict[tuple[str, str], tuple[Claim, date | None]] = field(default_factory=dict)
    returned_checks: dict[tuple[str, str], ReturnedCheck] = field(default_factory=dict)
    financing: dict[tuple[str, str], FinancingApplication] = field(default_factory=dict)
    exports: dict[tuple[str, str, str], ExportRecord] = field(default_factory=dict)
    work_orders: dict[tuple[str, str], WorkOrder] = field(default_factory=dict)
    events: list[Recorded] = field(default_factory=list)


E = TypeVar("E", bound=EventData)


def events_of(state: State, kind: type[E]) -> list[E]:
    """The committed events of one type, in the order recorded."""
    return [r.data for r in state.events if isinstance(r.data, kind)]


class _Store:
    def __init__(self, state: State, tenant: str) -> None:
        self.state, self.tenant = state, tenant


class FakeFolders(_Store):
    async def add(self, folder: Folder) -> bool:
        key = (self.tenant, folder.job_id)
        if key in self.state.folders:
            return False
        self.state.folders[key] = folder
        return True

    async def get(self, job_id: str, *, for_update: bool = False) -> Folder | None:
        # for_update: one unit of work at a time here, nothing to wait for.
        return self.state.folders.get((self.tenant, job_id))

    async def get_many(self, job_ids: list[str], *, for_update: bool = False) -> dict[str, Folder]:
        return {
            job_id: folder
            for job_id in sorted(job_ids)
            if (folder := self.state.folders.get((self.tenant, job_id))) is not None
        }

    async def put_many(self, folders: list[Folder]) -> None:
        for folder in folders:
            self.state.folders[(self.tenant, folder.job_id)] = folder

    async def save(self, folder: Folder) -> None:
        key = (self.tenant, folder.job_id)
        if key in self.state.folders:  # an UPDATE: a folder never opened stays unopened
            self.state.folders[key] = folder

    async def of_customer(self, customer_key: str) -> list[Folder]:
        found = [
            f
            for (tenant, _), f in self.state.folders.items()
            if tenant == self.tenant and f.customer_key == customer_key
        ]
        return sorted(found, key=lambda f: f.opened_at)


class FakeRecords(_Store):
    async def add(self, record: MoneyRecord, job_id: str) -> bool:
        key = (self.tenant, record.record_id)
        if key in self.state.records:
            return False
        self.state.records[key] = (job_id, record)
        return True

    async def of_job(self, job_id: str) -> list[MoneyRecord]:
        found = [
            r
            for (tenant, _), (job, r) in self.state.records.items()
            if tenant == self.tenant and job == job_id
        ]
        return sorted(found, key=lambda r: (r.recorded_at, r.record_id))

    async def add_many(self, records: list[tuple[str, MoneyRecord]]) -> None:
        for job_id, record in records:
            await self.add(record, job_id)

    async def of_jobs(self, job_ids: list[str]) -> dict[str, list[MoneyRecord]]:
        found = {job_id: await self.of_job(job_id) for job_id in job_ids}
        return {job_id: records for job_id, records in found.items() if records}

    async def totals(self, job_id: str) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = {}
        for record in await self.of_job(job_id):
            sums[record.kind] = sums.get(record.kind, Decimal("0.00")) + record.amount
        return sums

    async def totals_of(self, job_ids: list[str]) -> dict[str, dict[str, Decimal]]:
        found = {job_id: await self.totals(job_id) for job_id in job_ids}
        return {job_id: sums for job_id, sums in found.items() if sums}


class FakeIdempotency(_Store):
    async def get(self, key: str) -> KeptAnswer | None:
        kept = self.state.answers.get((self.tenant, key))
        return kept[0] if kept else None

    async def put(self, key: str, answer: KeptAnswer, at: datetime) -> None:
        if (self.tenant, key) in self.state.answers:
            raise DuplicateRow(f"idempotency key {key!r} has an answer already")
        self.state.answers[(self.tenant, key)] = (answer, at)


class FakeEscalations(_Store):
    async def open(self, escalation: Escalation) -> bool:
        if (self.tenant, escalation.escalation_id) in self.state.escalations:
            return False
        # The partial unique index: one undecided escalation per job.
        if escalation.decision is None and any(
            e.job_id == escalation.job_id for e in await self.listed(open_only=True)
        ):
            return False
        self.state.escalations[(self.tenant, escalation.escalation_id)] = escalation
        return True

    async def get(self, escalation_id: str, *, for_update: bool = False) -> Escalation | None:
        return self.state.escalations.get((self.tenant, escalation_id))

    async def save(self, escalation: Escalation) -> None:
        key = (self.tenant, escalation.escalation_id)
        if key in self.state.escalations:
            self.state.escalations[key] = escalation

    async def listed(self, *, open_only: bool) -> list[Escalation]:
        found = [
            e
            for (tenant, _), e in self.state.escalations.items()
            if tenant == self.tenant and not (open_only and e.decision is not None)
        ]
        return sorted(found, key=lambda e: e.opened_at)


class FakeTimeline(_Store):
    async def add(self, job_id: str, line: TimelineLine) -> None:
        self.state.timeline.append((self.tenant, job_id, line))

    async def add_many(self, lines: list[tuple[str, TimelineLine]]) -> None:
        for job_id, line in lines:
            await self.add(job_id, line)

    async def of_job(self, job_id: str) -> list[TimelineLine]:
        return [
            line
            for tenant, job, line in self.state.timeline
            if (tenant, job) == (self.tenant, job_id)
        ]


class FakeExpenses(_Store):
    async def add(self, job_id: str, expense: Expense) -> None:
        key = (self.tenant, expense.expense_id)
        if key in self.state.expenses:
            raise DuplicateRow(f"expense {expense.expense_id} exists")
        self.state.expenses[key] = (job_id, expense)

    async def save(self, expense: Expense) -> None:
        key = (self.tenant, expense.expense_id)
        if key in self.state.expenses:
            self.state.expenses[key] = (self.state.expenses[key][0], expense)

    async def of_job(self, job_id: str) -> list[Expense]:
        found = [
            e
            for (tenant, _), (job, e) in self.state.expenses.items()
            if tenant == self.tenant and job == job_id
        ]
        return sorted(found, key=lambda e: (e.recorded_at, e.expense_id))


class FakeInvoices(_Store):
    async def next_number(self, year: int, *, credit_note: bool = False) -> str:
        series = "CN" if credit_note else "INV"
        number = self.state.counters.get((self.tenant, series), 0) + 1
        self.state.counters[(self.tenant, series)] = number
        return f"{series}-{year}-{number:04d}"

    def _mine(self) -> list[Invoice]:
        return [i for (tenant, _), i in self.state.invoices.items() if tenant == self.tenant]

    async def credit_notes_of(self, invoice_number: str) -> list[Invoice]:
        # The SQL adapter does not order these; by number here (the order they were issued).
        return sorted(
            (i for i in self._mine() if i.credits == invoice_number), key=lambda i: i.number
        )

    async def add(self, invoice: Invoice) -> None:
        if (self.tenant, invoice.invoice_id) in self.state.invoices or any(
            i.number == invoice.number for i in self._mine()
        ):
            raise DuplicateRow(f"invoice {invoice.invoice_id} or number {invoice.number} exists")
        self.state.invoices[(self.tenant, invoice.invoice_id)] = invoice

    async def save(self, invoice: Invoice) -> None:
        key = (self.tenant, invoice.invoice_id)
        if key in self.state.invoices:
            self.state.invoices[key] = invoice

    async def get(self, invoice_id: str, *, for_update: bool = False) -> Invoice | None:
        return self.state.invoices.get((self.tenant, invoice_id))

    async def of_job(self, job_id: str) -> list[Invoice]:
        return sorted((i for i in self._mine() if i.job_id == job_id), key=lambda i: i.number)


class FakeClaims(_Store):
    async def put(self, claim: Claim, deadline: date | None) -> None:
        self.state.claims[(self.tenant, claim.job_id)] = (claim, deadline)

    async def get(self, job_id: str, *, for_update: bool = False) -> Claim | None:
        kept = self.state.claims.get((self.tenant, job_id))
        return kept[0] if kept else None


class FakeReturnedChecks(_Store):
    async def put(self, check: ReturnedCheck) -> None:
        self.state.returned_checks[(self.tenant, check.returned_check_id)] = check

    async def get(
        self, returned_check_id: str, *, for_update: bool = False
    ) -> ReturnedCheck | None:
        return self.state.returned_checks.get((self.tenant, returned_check_id))

    async def listed(self, *, open_only: bool) -> list[ReturnedCheck]:
        found = [
            c
            for (tenant, _), c in self.state.returned_checks.items()
            if tenant == self.tenant and not (open_only and c.closed_at is not None)
        ]
        return sorted(found, key=lambda c: c.opened_at)


class FakeFinancing(_Store):
    async def put(self, application: FinancingApplication) -> None:
        self.state.financing[(self.tenant, application.application_id)] = application

    async def get(
        self, application_id: str, *, for_update: bool = False
    ) -> FinancingApplication | None:
        return self.state.financing.get((self.tenant, application_id))

    async def of_job(self, job_id: str) -> list[FinancingApplication]:
        found = [
            a
            for (tenant, _), a in self.state.financing.items()
            if tenant == self.tenant and a.job_id == job_id
        ]
        return sorted(found, key=lambda a: (a.created_at, a.application_id))


class FakeExports(_Store):
    async def queue(self, record: ExportRecord) -> bool:
        key = (self.tenant, record.doc_type, record.doc_id)
        if key in self.state.exports:
            return False
        self.state.exports[key] = record
        return True

    async def save(self, record: ExportRecord) -> None:
        key = (self.tenant, record.doc_type, record.doc_id)
        if key in self.state.exports:
            self.state.exports[key] = record

    async def get(
        self, doc_type: str, doc_id: str, *, for_update: bool = False
    ) -> ExportRecord | None:
        return self.state.exports.get((self.tenant, doc_type, doc_id))

    async def listed(
        self, status: ExportStatus | None, doc_type: str | None, limit: int, offset: int
    ) -> list[ExportRecord]:
        found = [
            r
            for (tenant, _, _), r in self.state.exports.items()
            if tenant == self.tenant
            and (status is None or r.status == status)
            and (doc_type is None or r.doc_type == doc_type)
        ]
        found.sort(key=lambda r: r.doc_id)
        found.sort(key=lambda r: r.updated_at, reverse=True)  # latest first, then by id
        return found[offset : offset + limit]

    async def applied_to(self, invoice_id: str) -> Decimal:
        return sum(
            (
                r.document.applied
                for (tenant, doc_type, _), r in self.state.exports.items()
                if tenant == self.tenant
                and doc_type == "payment"
                and isinstance(r.document, PaymentDocument)
                and r.document.invoice == invoice_id
            ),
            Decimal("0.00"),
        )


class FakeWorkOrders(_Store):
    async def get(self, ticket_id: str, *, for_update: bool = False) -> WorkOrder | None:
        return self.state.work_orders.get((self.tenant, ticket_id))

    async def put(self, order: WorkOrder) -> None:
        self.state.work_orders[(self.tenant, order.ticket_id)] = order


def fake_repositories(state: State, tenant: str) -> BillingRepositories:
    return BillingRepositories(
        folders=FakeFolders(state, tenant),
        records=FakeRecords(state, tenant),
        idempotency=FakeIdempotency(state, tenant),
        escalations=FakeEscalations(state, tenant),
        timeline=FakeTimeline(state, tenant),
        expenses=FakeExpenses(state, tenant),
        invoices=FakeInvoices(state, tenant),
        returned_checks=FakeReturnedChecks(state, tenant),
        claims=FakeClaims(state, tenant),
        financing=FakeFinancing(state, tenant),
        exports=FakeExports(state, tenant),
        work_orders=FakeWorkOrders(state, tenant),
    )


# -- what the composition root reads across tenants (tables.claims_to_watch, stats.py) -----------


def claims_to_watch(state: State) -> list[tuple[str, str]]:
    """(tenant, job) of every claim with depreciation to claim and a known deadline, soonest
    deadline first."""
    watched = [
        (deadline, tenant, job)
        for (tenant, job), (claim, deadline) in state.claims.items()
        if claim.outstanding > 0 and deadline is not None
    ]
    return [(tenant, job) for _, tenant, job in sorted(watched)]


def figures(state: State) -> BillingFigures:
    """What the gauges show, from the state as BillingStats reads it from the tables."""
    held = [
        (tenant, f) for (tenant, _), f in state.folders.items() if f.standing.held_since is not None
    ]
    held_balance = sum(
        (
            balance_of(
                f.contract_price,
                [r for (t, _), (job, r) in state.records.items() if (t, job) == (tenant, f.job_id)],
            ).balance
            for tenant, f in held
        ),
        ZERO,
    )
    undecided = [e.opened_at for e in state.escalations.values() if e.decision is None]
    owing = [claim for claim, _ in state.claims.values() if claim.outstanding > 0]
    payments: dict[str, tuple[int, Decimal]] = {}
    for _, record in state.records.values():
        if record.kind == "payment":
            count, amount = payments.get(str(record.method), (0, ZERO))
            payments[str(record.method)] = (count + 1, amount + record.amount)
    return BillingFigures(
        held_jobs=len(held),
        held_balance=held_balance,
        escalations_open=len(undecided),
        oldest_escalation_at=min(undecided, default=None),
        depreciation_outstanding=sum((c.outstanding for c in owing), ZERO),
        depreciation_near_deadline=sum(1 for c in owing if c.notice == "notify"),
        depreciation_past_deadline=sum(1 for c in owing if c.notice == "escalate"),
        payments_by_method=payments,
        returned_checks_open=sum(1 for c in state.returned_checks.values() if c.closed_at is None),
    )


# -- the unit of work and the dependencies -------------------------------------------------------


class FakeUnitOfWork:
    """Works on a copy of the state: a commit keeps it, with the decisions logged and the events
    recorded; leaving without one drops all three, as a rolled-back transaction does."""

    def __init__(self, kept: State, tenant: str, policy: FakePolicy) -> None:
        self.kept, self.tenant_id, self.policy = kept, tenant, policy
        self.transaction = self  # the fake policy logs its decisions through this
        self.state = copy.deepcopy(kept)
        self.repos = fake_repositories(self.state, tenant)
        self._decisions: list[Decision] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # What was not committed is gone, as in a rolled-back transaction.
        self.state = copy.deepcopy(self.kept)
        self.repos = fake_repositories(self.state, self.tenant_id)
        self._decisions = []

    def record(
        self,
        data: EventData,
        *,
        subject: str,
        sequence: int | None = None,
        cause: Envelope | None = None,
    ) -> None:
        causation_id = str(cause.id) if cause else None
        encode_event(  # fails the command as the real one would: no subject, too large
            data,
            source="billing",
            subject=subject,
            tenant_id=self.tenant_id,
            max_bytes=MAX_MESSAGE_BYTES,
            sequence=sequence,
            causation_id=causation_id,
        )
        self.state.events.append(Recorded(subject, data, causation_id))

    def log_decision(self, decision: Decision) -> None:
        self._decisions.append(decision)

    async def commit(self) -> None:
        self.kept.__dict__.update(copy.deepcopy(self.state).__dict__)
        self.policy.log += self._decisions
        self._decisions = []


@dataclass
class Clock:
    """A fixed clock the test moves on by hand."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


class FakeLender:
    """A lender that answers at once: each application pending until the test says otherwise
    (``states``); the requests it was sent are kept to check what it was asked."""

    name = "Hearth"

    def __init__(self) -> None:
        self.requests: list[LoanRequest] = []
        self.states: dict[str, LoanState] = {}

    async def apply(self, request: LoanRequest) -> LoanApplication:
        self.requests.append(request)
        ref = f"hearth-{len(self.requests)}"
        self.states[ref] = LoanState(status="pending")
        return LoanApplication(lender_ref=ref, link=f"https://lender.example/apply/{ref}")

    def qualify(self, ref: str, *offers: Offer) -> None:
        self.states[ref] = LoanState(status="qualified", offers=offers)

    async def state(self, lender_ref: str) -> LoanState:
        return self.states[lender_ref]

    async def select_offer(self, lender_ref: str, offer_id: str) -> LoanState:
        chosen = self.states[lender_ref].model_copy(
            update={"status": "offer_selected", "selected_offer_id": offer_id}
        )
        self.states[lender_ref] = chosen
        return chosen


def fake_deps(
    now: datetime, *, lender: FakeLender | None = None
) -> tuple[BillingDeps, State, FakePolicy, Clock]:
    """Billing's dependencies on the fakes: the real policy engine over the shipped rules (its
    log in memory), a clock fixed at ``now``, the cross-tenant reads over the same state, the
    metrics on a registry of their own."""
    state, policy, clock = State(), FakePolicy(), Clock(now)

    def reading(read: Callable[[State], Any]) -> Callable[[], Awaitable[Any]]:
        async def read_state() -> Any:
            return read(state)

        return read_state

    deps = BillingDeps(
        unit_of_work=lambda tenant: FakeUnitOfWork(state, tenant, policy),
        policy=policy,
        claims_to_watch=reading(claims_to_watch),
        figures=reading(figures),
        metrics=BillingMetrics(),
        clock=clock,
        lender=lender,
    )
    return deps, state, policy, clock
