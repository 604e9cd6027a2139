"""The accounting export's pure parts: documents mapped to QuickBooks Online's shapes, amounts
written digit for digit from Decimal (never through a float), stable request ids, the retry
schedule, and payments applied no further than what is open on the invoice."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.billing.adapters.quickbooks import encode_json, fault_text, qbo_body
from services.billing.domain.exports import (
    CustomerDocument,
    PaymentDocument,
    Refs,
    SaleDocument,
    SaleLine,
    WorkOrder,
    after_failure,
    open_on,
    payment_document,
    reference_of,
    request_id_of,
    work_order_document,
)
from services.billing.domain.ledger import MoneyRecord

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def line(description: str, qty: str, price: str, amount: str) -> SaleLine:
    return SaleLine(
        description=description,
        quantity=Decimal(qty),
        unit_price=Decimal(price),
        amount=Decimal(amount),
    )


def a_sale(*lines: SaleLine, entity: str = "Invoice") -> SaleDocument:
    return SaleDocument.model_validate(
        {
            "entity": entity,
            "number": "INV-2026-0001",
            "on": date(2026, 12, 1),
            "customer": "dana@home.example",
            "lines": lines,
            "memo": "Roofline invoice INV-2026-0001, job job-1",
        }
    )


def test_an_invoice_is_quickbooks_shaped_with_exact_amounts() -> None:
    sale = a_sale(
        line("Gutter guard", "3", "0.10", "0.30"),
        line("Haul-away", "1", "0.20", "0.20"),
        line("Architectural shingle roof", "1", "11800.00", "11800.00"),
    )
    entity, body = qbo_body(sale, Refs(customer="58"), item_id="1")
    assert entity == "Invoice"
    assert body["DocNumber"] == "INV-2026-0001" and body["TxnDate"] == "2026-12-01"
    assert body["CustomerRef"] == {"value": "58"}
    first = body["Line"][0]
    assert first["DetailType"] == "SalesItemLineDetail"
    assert first["SalesItemLineDetail"] == {
        "ItemRef": {"value": "1"},
        "Qty": Decimal("3"),
        "UnitPrice": Decimal("0.10"),
    }
    raw = encode_json(body).decode()
    # Written as the Decimals are: 0.10 + 0.20 in float would be 0.30000000000000004.
    assert '"Amount":0.30' in raw and '"Amount":0.20' in raw and '"Amount":11800.00' in raw
    assert "0000000" not in raw
    parsed = json.loads(raw, parse_float=Decimal)
    assert sum(Decimal(str(ln["Amount"])) for ln in parsed["Line"]) == Decimal("11800.50")
    assert sale.record("invoice").line_items == 3
    assert sale.record("invoice").total == Decimal("11800.50")


def test_a_line_whose_total_is_not_qty_times_price_goes_as_its_amount_alone() -> None:
    # 3 x 12.345 = 37.035, billed 37.04 (half up) -- fine; a lump sum of 100.00 for 3 is not.
    _, body = qbo_body(
        a_sale(line("Flashing", "3", "12.345", "37.04"), line("Lump sum", "3", "30.00", "100.00")),
        Refs(customer="58"),
        item_id="7",
    )
    assert body["Line"][0]["SalesItemLineDetail"]["Qty"] == Decimal("3")
    assert body["Line"][1]["SalesItemLineDetail"] == {"ItemRef": {"value": "7"}}
    assert body["Line"][1]["Amount"] == Decimal("100.00")


def test_a_customer_has_a_display_name_quickbooks_accepts() -> None:
    entity, body = qbo_body(
        CustomerDocument(name="Reyes: Dana\n", email="dana@home.example", phone="555-0100"),
        Refs(),
        item_id="1",
    )
    assert entity == "Customer"
    assert body == {
        "DisplayName": "Reyes  Dana",
        "PrimaryEmailAddr": {"Address": "dana@home.example"},
        "PrimaryPhone": {"FreeFormNumber": "555-0100"},
    }
    _, bare = qbo_body(CustomerDocument(name="Acme Mutual"), Refs(), item_id="1")
    assert bare == {"DisplayName": "Acme Mutual"}


def payment(amount: str) -> MoneyRecord:
    return MoneyRecord(
        record_id="3f2a9c1e-7b4d-4e8a-9f00-1234567890ab",
        kind="payment",
        amount=Decimal(amount),
        on=date(2026, 12, 3),
        description="",
        method="check",
        by="bea",
        recorded_at=NOW,
    )


def test_a_payment_links_the_invoice_it_pays_up_to_what_is_open() -> None:
    document = payment_document(payment("5000.00"), "job-1", "dana", ("inv-1", Decimal("4000.00")))
    assert document.applied == Decimal("4000.00") and document.invoice == "inv-1"
    assert document.reference == "3f2a9c1e7b4d4e8a9f001" and len(document.reference) == 21
    entity, body = qbo_body(document, Refs(customer="58", invoice="130"), item_id="1")
    assert entity == "Payment"
    assert body["TotalAmt"] == Decimal("5000.00")
    assert body["PaymentRefNum"] == reference_of(payment("1").record_id)
    assert body["Line"] == [
        {"Amount": Decimal("4000.00"), "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]}
    ]
    assert b'"TotalAmt":5000.00' in encode_json(body)


def test_a_payment_with_no_open_invoice_goes_unapplied() -> None:
    document = payment_document(payment("250.00"), "job-1", "dana", None)
    assert document.invoice is None and document.applied == Decimal("0.00")
    _, body = qbo_body(document, Refs(customer="58"), item_id="1")
    assert body["Line"] == []
    paid_up = payment_document(payment("250.00"), "job-1", "dana", ("inv-1", Decimal("0.00")))
    assert paid_up.invoice is None
    assert open_on(Decimal("100.00"), Decimal("120.00")) == Decimal("0.00")


def test_a_transaction_without_its_customers_id_is_not_mapped() -> None:
    with pytest.raises(ValueError):
        qbo_body(
            PaymentDocument.model_validate(
                {"amount": "1.00", "on": "2026-12-01", "customer": "c", "reference": "r"}
            ),
            Refs(),
            item_id="1",
        )


def test_a_paid_work_order_is_a_sales_receipt_and_an_unpaid_one_an_invoice() -> None:
    order = WorkOrder(
        ticket_id="t-1",
        number="T-2026-0007",
        job_id="job-9",
        customer_name="Lee Park",
        customer_email="LEE@park.example",
        lines=(line("Service call", "1", "0.00", "0.00"),),
        payment_status="paid",
        completed_on=date(2026, 12, 2),
    )
    receipt = work_order_document(order, date(2026, 12, 5))
    assert (receipt.entity, receipt.number, receipt.on) == (
        "SalesReceipt",
        "T-2026-0007",
        date(2026, 12, 2),
    )
    assert receipt.customer == "lee@park.example"
    invoice = work_order_document(
        order.model_copy(update={"payment_status": "unpaid"}), date(2026, 12, 5)
    )
    assert invoice.entity == "Invoice"
    assert invoice.record("work_order").line_items == 1


def test_request_ids_are_stable_per_document_and_tenant() -> None:
    first = request_id_of("acme", "invoice", "inv-1")
    assert first == request_id_of("acme", "invoice", "inv-1")
    assert first != request_id_of("other", "invoice", "inv-1")
    assert first != request_id_of("acme", "payment", "inv-1")
    assert uuid.UUID(first).version == 5 and len(first) <= 50


def test_failed_sends_back_off_doubling_then_fail() -> None:
    assert after_failure(1, 4, now=NOW, base_s=30, max_s=100) == (
        "pending",
        NOW + timedelta(seconds=30),
    )
    assert after_failure(2, 4, now=NOW, base_s=30, max_s=100) == (
        "pending",
        NOW + timedelta(seconds=60),
    )
    assert after_failure(3, 4, now=NOW, base_s=30, max_s=100) == (
        "pending",
        NOW + timedelta(seconds=100),
    )
    assert after_failure(4, 4, now=NOW, base_s=30, max_s=100) == ("failed", None)


def test_the_encoder_refuses_a_float_and_reads_faults() -> None:
    with pytest.raises(TypeError):
        encode_json({"Amount": 0.1})
    with pytest.raises(ValueError):
        encode_json({"Amount": Decimal("NaN")})
    assert encode_json({"a": [True, None, 3, 'x"y'], "b": Decimal("-5.00")}) == (
        b'{"a":[true,null,3,"x\\"y"],"b":-5.00}'
    )
    fault = {
        "Error": [{"Message": "Duplicate Name Exists Error", "Detail": "in use", "code": "6240"}],
        "type": "ValidationFault",
    }
    assert fault_text(fault) == "ValidationFault: Duplicate Name Exists Error: in use (code 6240)"
