"""The export worker with fakes of its queue and of the accounting system: a crash between the
send and its bookkeeping sends the document again only after its lease, under the same request
id (so nothing is created twice); a document waits for its customer without an attempt counted;
an unreachable system is retried with backoff until the attempts run out; a validation fault
fails at once."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.billing.domain.exports import (
    PRIORITY,
    CustomerDocument,
    Document,
    Exported,
    ExportRecord,
    ExportRejected,
    ExportStatus,
    ExportUnavailable,
    Refs,
    SaleDocument,
    SaleLine,
    request_id_of,
)
from services.billing.handlers.export_worker import export_due
from services.billing.metrics import ExportMetrics
from services.billing.ports import ExportQueue, ExportWorkerDeps, QueuedExport
from shared.platform.settings import load_settings

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
KEY = ("acme", "customer", "dana")


class Crash(BaseException):
    """The process dying between the send and recording its outcome."""


@dataclass
class FakeQueue:
    rows: dict[tuple[str, str, str], ExportRecord] = field(default_factory=dict)

    def put(self, doc_type: str, doc_id: str, document: Document) -> None:
        self.rows[("acme", doc_type, doc_id)] = ExportRecord.model_validate(
            {
                "doc_type": doc_type,
                "doc_id": doc_id,
                "request_id": request_id_of("acme", doc_type, doc_id),
                "next_attempt_at": T0,
                "document": document,
                "created_at": T0,
                "updated_at": T0,
            }
        )

    def row(self, doc_type: str, doc_id: str) -> ExportRecord:
        return self.rows[("acme", doc_type, doc_id)]

    async def next_due(self, now: datetime) -> QueuedExport | None:
        due = [
            (PRIORITY[r.doc_type], r.next_attempt_at, key)
            for key, r in self.rows.items()
            if r.status == "pending" and r.next_attempt_at <= now
        ]
        if not due:
            return None
        key = min(due)[2]
        return QueuedExport(tenant_id=key[0], record=self.rows[key])

    async def state_of(
        self, tenant_id: str, doc_type: str, doc_id: str
    ) -> tuple[ExportStatus, str | None] | None:
        row = self.rows.get((tenant_id, doc_type, doc_id))
        return (row.status, row.external_id) if row else None

    def _update(self, picked: QueuedExport, **values: object) -> ExportRecord:
        key = (picked.tenant_id, picked.record.doc_type, picked.record.doc_id)
        self.rows[key] = self.rows[key].model_copy(update=values)
        return self.rows[key]

    async def defer(self, picked: QueuedExport, until: datetime, note: str) -> None:
        self._update(picked, next_attempt_at=until, note=note)

    async def claim(self, picked: QueuedExport, lease_until: datetime, now: datetime) -> int:
        attempts = self.rows[(picked.tenant_id, picked.record.doc_type, picked.record.doc_id)]
        row = self._update(
            picked, attempts=attempts.attempts + 1, next_attempt_at=lease_until, note=None
        )
        return row.attempts

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
        row = self.rows[(picked.tenant_id, picked.record.doc_type, picked.record.doc_id)]
        if row.status != "pending" or row.attempts != attempt:
            return False
        values: dict[str, object] = {"status": status, "last_error": last_error, "note": note}
        if external_id is not None:
            values["external_id"] = external_id
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        self._update(picked, **values)
        return True

    async def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rows.values():
            counts[row.status] = counts.get(row.status, 0) + 1
        return counts


@dataclass
class FakeAccounting:
    """Creates each request id once; a repeat answers what the first created (as QuickBooks
    replays its answer). ``crash_after_send`` / ``failures`` script what goes wrong."""

    created: dict[str, str] = field(default_factory=dict)
    sends: list[tuple[str, Refs]] = field(default_factory=list)
    crash_after_send: int = 0
    failures: list[Exception] = field(default_factory=list)

    async def export(self, document: Document, refs: Refs, request_id: str) -> Exported:
        self.sends.append((request_id, refs))
        if self.failures:
            raise self.failures.pop(0)
        repeat = request_id in self.created
        if not repeat:
            self.created[request_id] = str(len(self.created) + 1)
        if self.crash_after_send:
            self.crash_after_send -= 1
            raise Crash
        return Exported(external_id=self.created[request_id], resolved=repeat)

    async def aclose(self) -> None:
        return None


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def worker(queue: FakeQueue, accounting: FakeAccounting, clock: Clock) -> ExportWorkerDeps:
    @contextlib.asynccontextmanager
    async def opened() -> AsyncIterator[ExportQueue]:
        yield queue

    settings = load_settings(
        "billing",
        accounting_export_backoff_s=10,
        accounting_export_backoff_max_s=60,
        accounting_export_max_attempts=3,
        accounting_export_lease_s=120,
    )
    return ExportWorkerDeps(
        queue=opened, accounting=accounting, settings=settings, metrics=ExportMetrics(), clock=clock
    )


def an_invoice() -> SaleDocument:
    return SaleDocument(
        entity="Invoice",
        number="INV-2026-0001",
        on=date(2026, 12, 1),
        customer="dana",
        lines=(
            SaleLine(
                description="Roof",
                quantity=Decimal("1"),
                unit_price=Decimal("9"),
                amount=Decimal("9.00"),
            ),
        ),
    )


async def test_a_crash_mid_send_sends_again_after_the_lease_under_the_same_request_id() -> None:
    queue, accounting, clock = FakeQueue(), FakeAccounting(crash_after_send=1), Clock()
    queue.put("customer", "dana", CustomerDocument(name="Dana Reyes"))
    deps = worker(queue, accounting, clock)
    with pytest.raises(Crash):
        await export_due(deps)
    row = queue.row("customer", "dana")
    assert row.status == "pending" and row.attempts == 1
    assert row.next_attempt_at == T0 + timedelta(seconds=120)  # not before its lease passes
    clock.now = T0 + timedelta(seconds=60)
    assert await export_due(deps) == 0 and len(accounting.sends) == 1

    clock.now = T0 + timedelta(seconds=121)
    assert await export_due(deps) == 1
    row = queue.row("customer", "dana")
    assert (row.status, row.external_id, row.attempts) == ("exported", "1", 2)
    assert row.note is not None and "answer was lost" in row.note
    assert [request_id for request_id, _ in accounting.sends] == [row.request_id] * 2
    assert len(accounting.created) == 1


async def test_an_invoice_waits_for_its_customer_without_an_attempt() -> None:
    queue, accounting, clock = FakeQueue(), FakeAccounting(), Clock()
    queue.put("customer", "dana", CustomerDocument(name="Dana Reyes"))
    queue.put("invoice", "inv-1", an_invoice())
    accounting.failures = [ExportRejected("ValidationFault: Duplicate Name Exists Error")]
    deps = worker(queue, accounting, clock)
    assert await export_due(deps) == 2
    customer, invoice = queue.row("customer", "dana"), queue.row("invoice", "inv-1")
    assert customer.status == "failed" and "Duplicate Name" in (customer.last_error or "")
    assert invoice.status == "pending" and invoice.attempts == 0
    assert invoice.note == "waiting for its customer 'dana' to be exported (failed)"
    assert deps.metrics.failures.labels("customer")._value.get() == 1

    # Sent again on request: the customer goes first, then the invoice with its customer's id.
    clock.now = T0 + timedelta(seconds=11)
    queue.rows[KEY] = customer.model_copy(
        update={"status": "pending", "attempts": 0, "next_attempt_at": clock.now}
    )
    await export_due(deps)
    assert queue.row("invoice", "inv-1").status == "exported"
    assert accounting.sends[-1][1] == Refs(customer="1")
    assert deps.metrics.exports.labels("exported")._value.get() == 2


async def test_an_unreachable_system_is_retried_with_backoff_until_the_attempts_run_out() -> None:
    queue, accounting, clock = FakeQueue(), FakeAccounting(), Clock()
    queue.put("customer", "dana", CustomerDocument(name="Dana Reyes"))
    accounting.failures = [ExportUnavailable("QuickBooks answered 503")] * 3
    deps = worker(queue, accounting, clock)
    await export_due(deps)
    row = queue.row("customer", "dana")
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "QuickBooks answered 503")
    assert row.next_attempt_at == T0 + timedelta(seconds=10)
    clock.now = T0 + timedelta(seconds=10)
    await export_due(deps)
    assert queue.row("customer", "dana").next_attempt_at == clock.now + timedelta(seconds=20)
    clock.now += timedelta(seconds=20)
    await export_due(deps)
    row = queue.row("customer", "dana")
    assert (row.status, row.attempts) == ("failed", 3)
    assert deps.metrics.retries._value.get() == 2
