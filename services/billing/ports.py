"""What the billing handlers depend on, as interfaces; ``app.py`` wires the SQL ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel

from services.billing.domain import Folder, MoneyRecord
from services.billing.domain.collections import Escalation, TimelineLine
from services.billing.domain.costs import Expense
from services.billing.domain.exports import (
    Document,
    Exported,
    ExportRecord,
    ExportStatus,
    Refs,
    WorkOrder,
)
from services.billing.domain.financing import (
    FinancingApplication,
    LoanApplication,
    LoanRequest,
    LoanState,
)
from services.billing.domain.insurance import Claim
from services.billing.domain.invoices import Invoice
from services.billing.domain.returned_checks import ReturnedCheck
from services.billing.metrics import BillingMetrics, ExportMetrics
from shared.platform.settings import Settings
from shared.platform.storage.uow import ServiceUnitOfWork
from shared.policy.decider import Decider


class KeptAnswer(BaseModel):
    """What a request made with an Idempotency-Key was answered: a retry gets it again."""

    request: str  # a hash of the route and the body: the same key with another body is refused
    status: int
    response: dict[str, Any]


class FolderStore(Protocol):
    async def add(self, folder: Folder) -> bool:
        """Open the folder; False if the job already has one (a replayed lead)."""
        ...

    async def get(self, job_id: str, *, for_update: bool = False) -> Folder | None:
        """The folder (``for_update``: held until commit, so money on one job takes turns)."""
        ...

    async def get_many(self, job_ids: list[str], *, for_update: bool = False) -> dict[str, Folder]:
        """The folders of those jobs billing has, by job."""
        ...

    async def put_many(self, folders: list[Folder]) -> None:
        """Keep each folder whole: opened if new, else as it now is."""
        ...

    async def save(self, folder: Folder) -> None: ...
    async def of_customer(self, customer_key: str) -> list[Folder]: ...


class MoneyRecordStore(Protocol):
    async def add(self, record: MoneyRecord, job_id: str) -> bool:
        """Keep the record once: False if one with its id is kept already (a replay)."""
        ...

    async def of_job(self, job_id: str) -> list[MoneyRecord]:
        """Every record on the job, oldest first."""
        ...

    async def add_many(self, records: list[tuple[str, MoneyRecord]]) -> None:
        """Keep each (job, record); one kept before is left as it is."""
        ...

    async def of_jobs(self, job_ids: list[str]) -> dict[str, list[MoneyRecord]]:
        """Each job's records, oldest first (jobs without any are left out)."""
        ...

    async def totals(self, job_id: str) -> dict[str, Decimal]:
        """The job's record amounts summed by kind (a balance read sums, it reads no record)."""
        ...

    async def totals_of(self, job_ids: list[str]) -> dict[str, dict[str, Decimal]]:
        """``totals`` of each job (jobs without records are left out)."""
        ...


class IdempotencyStore(Protocol):
    async def get(self, key: str) -> KeptAnswer | None: ...
    async def put(self, key: str, answer: KeptAnswer, at: datetime) -> None: ...


class EscalationStore(Protocol):
    async def open(self, escalation: Escalation) -> bool:
        """False if the job has an open escalation already."""
        ...

    async def get(self, escalation_id: str, *, for_update: bool = False) -> Escalation | None: ...
    async def save(self, escalation: Escalation) -> None: ...
    async def listed(self, *, open_only: bool) -> list[Escalation]: ...


class ExpenseStore(Protocol):
    async def add(self, job_id: str, expense: Expense) -> None: ...
    async def save(self, expense: Expense) -> None: ...
    async def of_job(self, job_id: str) -> list[Expense]: ...


class InvoiceStore(Protocol):
    async def next_number(self, year: int, *, credit_note: bool = False) -> str:
        """The tenant's next invoice number (INV-2026-0001; a credit note's CN-2026-0001):
        never repeated."""
        ...

    async def credit_notes_of(self, invoice_number: str) -> list[Invoice]: ...
    async def add(self, invoice: Invoice) -> None: ...
    async def save(self, invoice: Invoice) -> None: ...
    async def get(self, invoice_id: str, *, for_update: bool = False) -> Invoice | None: ...
    async def of_job(self, job_id: str) -> list[Invoice]: ...


class ClaimStore(Protocol):
    async def put(self, claim: Claim, deadline: date | None) -> None:
        """Keep the claim, with the carrier's deadline for its depreciation (if known)."""
        ...

    async def get(self, job_id: str, *, for_update: bool = False) -> Claim | None: ...


class ReturnedCheckStore(Protocol):
    async def put(self, check: ReturnedCheck) -> None: ...
    async def get(
        self, returned_check_id: str, *, for_update: bool = False
    ) -> ReturnedCheck | None: ...
    async def listed(self, *, open_only: bool) -> list[ReturnedCheck]: ...


class FinancingStore(Protocol):
    async def put(self, application: FinancingApplication) -> None: ...
    async def get(
        self, application_id: str, *, for_update: bool = False
    ) -> FinancingApplication | None: ...
    async def of_job(self, job_id: str) -> list[FinancingApplication]:
        """The job's applications, oldest first."""
        ...


class Lender(Protocol):
    """A lender's API (a Hearth-like one): its calls are made outside any transaction."""

    @property
    def name(self) -> str:
        """What the customer knows the lender as (named in the email to them)."""
        ...

    async def apply(self, request: LoanRequest) -> LoanApplication:
        """Open an application; raises ``LenderUnavailable`` or ``LenderError``."""
        ...

    async def state(self, lender_ref: str) -> LoanState: ...
    async def select_offer(self, lender_ref: str, offer_id: str) -> LoanState: ...


class TimelineStore(Protocol):
    async def add(self, job_id: str, line: TimelineLine) -> None: ...
    async def add_many(self, lines: list[tuple[str, TimelineLine]]) -> None:
        """Each (job, line), in this order."""
        ...

    async def of_job(self, job_id: str) -> list[TimelineLine]: ...


class BillingFigures(BaseModel):
    """What the gauges show, across tenants."""

    held_jobs: int
    held_balance: Decimal
    escalations_open: int
    oldest_escalation_at: datetime | None
    depreciation_outstanding: Decimal
    depreciation_near_deadline: int
    depreciation_past_deadline: int
    payments_by_method: dict[str, tuple[int, Decimal]]
    returned_checks_open: int


class ExportStore(Protocol):
    """Documents queued for the accounting system (one row per document)."""

    async def queue(self, record: ExportRecord) -> bool:
        """Queue the document once: False if it was queued before."""
        ...

    async def save(self, record: ExportRecord) -> None: ...
    async def get(
        self, doc_type: str, doc_id: str, *, for_update: bool = False
    ) -> ExportRecord | None: ...
    async def listed(
        self, status: ExportStatus | None, doc_type: str | None, limit: int, offset: int
    ) -> list[ExportRecord]:
        """Latest changed first."""
        ...

    async def applied_to(self, invoice_id: str) -> Decimal:
        """What the payments queued so far apply to the invoice."""
        ...


class WorkOrderStore(Protocol):
    """Tickets' work, kept from their events until it is billed."""

    async def get(self, ticket_id: str, *, for_update: bool = False) -> WorkOrder | None: ...
    async def put(self, order: WorkOrder) -> None: ...


@dataclass(frozen=True)
class QueuedExport:
    """A document the export worker picked, with its tenant."""

    tenant_id: str
    record: ExportRecord


class ExportQueue(Protocol):
    """The export worker's view across tenants (each row carries its tenant)."""

    async def next_due(self, now: datetime) -> QueuedExport | None:
        """The next pending document due, held (skipping those others hold) until commit."""
        ...

    async def state_of(
        self, tenant_id: str, doc_type: str, doc_id: str
    ) -> tuple[ExportStatus, str | None] | None:
        """Another document's status and external id (None: not queued)."""
        ...

    async def defer(self, picked: QueuedExport, until: datetime, note: str) -> None: ...
    async def claim(self, picked: QueuedExport, lease_until: datetime, now: datetime) -> int:
        """Count the attempt; due again at ``lease_until`` if never settled (a crash). Returns
        the attempt's number."""
        ...

    async def settle(
        self,
        picked: QueuedExport,
        attempt: int,
        status: ExportStatus,
        now: datetime,
        *,
        external_id: str | None = None,
        last_error: str | None = None,
        note: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> bool:
        """The attempt's outcome, if the row is still that attempt's (False otherwise)."""
        ...

    async def counts(self) -> dict[str, int]:
        """Documents by status, all tenants."""
        ...


class AccountingExport(Protocol):
    """The accounting system (QuickBooks Online through its adapter)."""

    async def export(self, document: Document, refs: Refs, request_id: str) -> Exported:
        """Create the document (once per ``request_id``). Raises ``ExportRejected`` (a fault
        that retrying will not fix) or ``ExportUnavailable`` (try again later)."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class BillingRepositories:
    folders: FolderStore
    records: MoneyRecordStore
    idempotency: IdempotencyStore
    escalations: EscalationStore
    timeline: TimelineStore
    expenses: ExpenseStore
    invoices: InvoiceStore
    returned_checks: ReturnedCheckStore
    claims: ClaimStore
    financing: FinancingStore
    exports: ExportStore
    work_orders: WorkOrderStore


BillingUnitOfWork = ServiceUnitOfWork[BillingRepositories]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class BillingDeps:
    """Everything a handler needs, built once by the composition root."""

    unit_of_work: Callable[[str], BillingUnitOfWork]  # by tenant
    policy: Decider
    # (tenant, job) of every claim with depreciation left to claim: the deadline watch's round.
    claims_to_watch: Callable[[], Awaitable[list[tuple[str, str]]]]
    figures: Callable[[], Awaitable[BillingFigures]]
    metrics: BillingMetrics
    clock: Callable[[], datetime] = field(default=utc_now)
    lender: Lender | None = None  # None: no lender configured (ROOFLINE_LENDER_URL unset)
    # The accounting system documents are exported to; None: export is off (they wait).
    accounting: AccountingExport | None = None


@dataclass(frozen=True)
class ExportWorkerDeps:
    """What the export worker needs: the queue across tenants, the accounting system (None:
    export is off), its settings, its instruments."""

    queue: Callable[[], AbstractAsyncContextManager[ExportQueue]]
    accounting: AccountingExport | None
    settings: Settings  # accounting_export_* and quickbooks_*
    metrics: ExportMetrics
    clock: Callable[[], datetime] = field(default=utc_now)
