"""An invoice as a printable HTML page (every value escaped; no script)."""

from __future__ import annotations

from html import escape

from services.billing.domain.invoices import Invoice

STYLE = """
body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;color:#222}
table{width:100%;border-collapse:collapse}th,td{padding:.3rem .5rem;border-bottom:1px solid #ddd}
td.n,th.n{text-align:right}tfoot td{font-weight:600}@media print{body{margin:0}}
"""


def invoice_page(invoice: Invoice) -> str:
    rows = "".join(
        f"<tr><td>{escape(line.description)}</td><td class=n>{line.quantity}</td>"
        f"<td class=n>{line.unit_price}</td><td class=n>{line.amount}</td></tr>"
        for line in invoice.lines
    )
    status = f"Sent {invoice.sent_at:%B %d, %Y}" if invoice.sent_at else "Draft (not sent)"
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>Invoice {escape(invoice.number)}</title><style>{STYLE}</style></head><body>"
        f"<h1>Invoice {escape(invoice.number)}</h1>"
        f"<p>Bill to: {escape(invoice.bill_to)}<br>Job: {escape(invoice.job_id)}<br>{status}</p>"
        "<table><thead><tr><th>Description</th><th class=n>Qty</th><th class=n>Unit price</th>"
        f"<th class=n>Amount</th></tr></thead><tbody>{rows}</tbody><tfoot>"
        f"<tr><td colspan=3>Total</td><td class=n>{invoice.total}</td></tr>"
        f"<tr><td colspan=3>Paid</td><td class=n>{invoice.paid}</td></tr>"
        f"<tr><td colspan=3>Due</td><td class=n>{invoice.due}</td></tr>"
        "</tfoot></table></body></html>"
    )
