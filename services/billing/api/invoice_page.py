"""An invoice as a printable HTML page (every value escaped; no script)."""

from __future__ import annotations

from html import escape

from services.billing.domain.insurance import InsuranceDetail
from services.billing.domain.invoices import Invoice

STYLE = """
body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;color:#222}
table{width:100%;border-collapse:collapse}th,td{padding:.3rem .5rem;border-bottom:1px solid #ddd}
td.n,th.n{text-align:right}tfoot td{font-weight:600}@media print{body{margin:0}}
"""


def _detail(detail: InsuranceDetail) -> str:
    """The insurance summary line by line beside the invoice, then every difference."""
    rows = "".join(
        f"<tr><td>{escape(row.code)}</td><td>{escape(row.description)}</td>"
        f"<td class=n>{row.quantity}</td><td class=n>{row.rcv}</td>"
        f"<td class=n>{row.depreciation}</td><td class=n>{row.acv}</td>"
        f"<td>{'yes' if row.installed else 'not yet'}</td>"
        f"<td class=n>{'' if row.billed is None else row.billed}</td>"
        f"<td class=n>{'' if row.difference is None else row.difference}</td></tr>"
        for row in detail.rows
    )
    differences = "".join(
        f"<li>{escape(d.what)}: summary {d.summary}, invoice {d.invoice}, "
        f"difference {d.difference}</li>"
        for d in detail.differences
    )
    return (
        f"<h2>Insurance summary: {escape(detail.carrier)}, claim {escape(detail.claim_number)}</h2>"
        "<table><thead><tr><th>Code</th><th>Description</th><th class=n>Qty</th>"
        "<th class=n>RCV</th><th class=n>Depreciation</th><th class=n>ACV</th><th>Installed</th>"
        "<th class=n>Billed</th><th class=n>Difference</th></tr></thead>"
        f"<tbody>{rows}</tbody><tfoot><tr><td colspan=3>Summary totals</td>"
        f"<td class=n>{detail.rcv}</td><td class=n>{detail.depreciation}</td>"
        f"<td class=n>{detail.acv}</td><td colspan=3></td></tr></tfoot></table>"
        f"<p>Deductible: {detail.deductible}. Depreciation released: "
        f"{detail.depreciation_released}; still to claim: {detail.depreciation_outstanding}.</p>"
        + (f"<h3>Differences</h3><ul>{differences}</ul>" if differences else "")
    )


def invoice_page(invoice: Invoice) -> str:
    rows = "".join(
        f"<tr><td>{escape(line.description)}</td><td class=n>{line.quantity}</td>"
        f"<td class=n>{line.unit_price}</td><td class=n>{line.amount}</td></tr>"
        for line in invoice.lines
    )
    status = f"Sent {invoice.sent_at:%B %d, %Y}" if invoice.sent_at else "Draft (not sent)"
    title = "Credit note" if invoice.kind == "credit_note" else "Invoice"
    if invoice.credits:
        status += f"<br>Corrects invoice {escape(invoice.credits)}: {escape(invoice.reason)}"
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{title} {escape(invoice.number)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{title} {escape(invoice.number)}</h1>"
        f"<p>Bill to: {escape(invoice.bill_to)}<br>Job: {escape(invoice.job_id)}<br>{status}</p>"
        "<table><thead><tr><th>Description</th><th class=n>Qty</th><th class=n>Unit price</th>"
        f"<th class=n>Amount</th></tr></thead><tbody>{rows}</tbody><tfoot>"
        f"<tr><td colspan=3>Total</td><td class=n>{invoice.total}</td></tr>"
        f"<tr><td colspan=3>Paid</td><td class=n>{invoice.paid}</td></tr>"
        f"<tr><td colspan=3>Due</td><td class=n>{invoice.due}</td></tr>"
        "</tfoot></table>"
        f"{_detail(invoice.detail) if invoice.detail else ''}</body></html>"
    )
