"""The insurance domain (seed 000, seed 002): the carrier's deadline from the policy's table, what
a summary line's work is, the detailed invoice's differences and a credit note's limits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.billing.domain.folder import JobLine
from services.billing.domain.insurance import Claim, ClaimIn, SummaryLine, insurance_detail
from services.billing.domain.invoices import (
    CreditLine,
    CreditRefused,
    Invoice,
    InvoiceLine,
    NewCreditNote,
    credit_note_lines,
)

TABLE = (
    {"carrier": "*", "days": 180, "counted_from": "acv_payment"},
    {"carrier": "Acme Mutual", "days": 365, "counted_from": "date_of_loss"},
)


def claim(carrier: str = "Acme Mutual", **dates: date) -> Claim:
    new = ClaimIn(
        carrier=carrier,
        claim_number="C-1",
        lines=[
            SummaryLine(code="1", description="Shingles", rcv=Decimal("9000.00"),
                        depreciation=Decimal("1840.50")),
            SummaryLine(code="2", description="Gutters", rcv=Decimal("1200.00"),
                        depreciation=Decimal("300.00"), line_item_id="li-9"),
        ],
        **dates,
    )  # fmt: skip
    return Claim(job_id="job-1", carrier=carrier, claim_number="C-1").recorded(new)


def test_the_carriers_row_counts_from_its_date_and_others_use_the_star_row() -> None:
    loss, paid = date(2026, 9, 1), date(2026, 10, 15)
    acme = claim("ACME mutual ", date_of_loss=loss, acv_paid_on=paid).deadline(TABLE)
    assert acme is not None and acme.due == date(2027, 9, 1)
    other = claim("Other Insurance", date_of_loss=loss, acv_paid_on=paid).deadline(TABLE)
    assert other is not None and other.due == date(2027, 4, 13)  # 180 days after the ACV
    assert claim("Other Insurance", date_of_loss=loss).deadline(TABLE) is None  # no ACV yet
    assert claim("Other").deadline(TABLE[1:]) is None  # no row for it, no "*" row


def test_a_summary_line_is_done_by_the_line_item_named_or_by_its_reference() -> None:
    kept = claim()
    lines = [
        JobLine(line_item_id="li-1", description="Roof", quantity=Decimal("1"),
                unit_price=Decimal("9100"), total=Decimal("9100"), insurance_line_ref="1",
                completed=True),
        JobLine(line_item_id="li-9", description="Gutters", quantity=Decimal("1"),
                unit_price=Decimal("1150"), total=Decimal("1150"), insurance_line_ref="1"),
    ]  # fmt: skip
    assert [kept.installed(line, lines) for line in kept.lines] == [True, False]
    detail = insurance_detail(kept, lines)
    assert [row.difference for row in detail.rows] == [Decimal("100.00"), Decimal("-50.00")]
    (difference,) = detail.differences
    assert difference.difference == Decimal("50.00")  # 10,250.00 billed for 10,200.00 of summary


def test_depreciation_above_the_rcv_is_refused_naming_the_line() -> None:
    with pytest.raises(ValueError, match=r"line 7: depreciation 10\.00 is more than its RCV 5\.00"):
        SummaryLine(code="7", description="x", rcv=Decimal("5.00"), depreciation=Decimal("10.00"))


def sent_invoice() -> Invoice:
    line = InvoiceLine(
        description="Gutters",
        quantity=Decimal("1"),
        unit_price=Decimal("1200.00"),
        amount=Decimal("1200.00"),
        source="li-2",
    )
    at = datetime(2026, 12, 1, tzinfo=UTC)
    return Invoice(
        invoice_id="i-1", number="INV-2026-0001", job_id="job-1", kind="customer", bill_to="Dana",
        lines=(line,), total=Decimal("1200.00"), paid=Decimal("0.00"), due=Decimal("1200.00"),
        status="sent", created_at=at, sent_at=at, by="bea",
    )  # fmt: skip


def test_credit_notes_never_credit_more_than_the_line_has_left() -> None:
    invoice = sent_invoice()
    first = credit_note_lines(
        invoice,
        NewCreditNote(reason="r", lines=[CreditLine(source="li-2", amount=Decimal("1000"))]),
        [],
    )
    assert first[0].amount == Decimal("-1000")
    note = invoice.model_copy(update={"lines": first, "kind": "credit_note"})
    rest = credit_note_lines(invoice, NewCreditNote(reason="the rest"), [note])
    assert [line.amount for line in rest] == [Decimal("-200.00")]
    with pytest.raises(CreditRefused, match=r"more than the 200\.00 left"):
        credit_note_lines(
            invoice,
            NewCreditNote(reason="r", lines=[CreditLine(source="li-2", amount=Decimal("200.01"))]),
            [note],
        )
    with pytest.raises(CreditRefused, match="is a draft"):
        credit_note_lines(
            invoice.model_copy(update={"status": "draft"}), NewCreditNote(reason="r"), []
        )
