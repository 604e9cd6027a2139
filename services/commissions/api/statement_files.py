"""A statement as CSV (for payroll) and as a printable HTML page (every value escaped)."""

from __future__ import annotations

import csv
import io
from html import escape

from services.commissions.domain.statements import Statement

COLUMNS = ("effective_on", "job_id", "kind", "amount", "share", "plan", "notes", "record_id")


def _plan(record: object) -> str:
    evaluation = getattr(record, "evaluation", None)
    if evaluation is None:
        return ""
    return f"{evaluation.plan_id}@{evaluation.plan_version}#{evaluation.plan_hash}"


def statement_csv(statement: Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("salesman_id", *COLUMNS))
    for r in statement.records:
        writer.writerow(
            (
                statement.salesman_id,
                r.effective_on.isoformat(),
                r.job_id,
                r.kind,
                str(r.amount),
                str(r.share),
                _plan(r),
                r.notes,
                r.record_id,
            )
        )
    writer.writerow((statement.salesman_id, "", "", "total", str(statement.totals.credited)))
    return out.getvalue()


def statement_page(statement: Statement) -> str:
    rows = "".join(
        f"<tr><td>{r.effective_on}</td><td>{escape(r.job_id)}</td><td>{r.kind}</td>"
        f"<td class=n>{r.amount}</td><td class=n>{r.share}%</td><td>{escape(_plan(r))}</td>"
        f"<td>{escape(r.notes)}"
        + (
            "<br><small>" + "<br>".join(escape(line) for line in r.evaluation.lines) + "</small>"
            if r.evaluation
            else ""
        )
        + "</td></tr>"
        for r in statement.records
    )
    t = statement.totals
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>Commission statement {escape(statement.salesman_id)}</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto}"
        "table{width:100%;border-collapse:collapse}"
        "td,th{padding:.3rem;border-bottom:1px solid #ddd}"
        "td.n{text-align:right}@media print{body{margin:0}}</style></head><body>"
        f"<h1>Commission statement: {escape(statement.salesman_id)}</h1>"
        f"<p>{statement.start} to {statement.end} (exclusive)</p>"
        "<table><thead><tr><th>Effective</th><th>Job</th><th>Type</th><th>Amount</th><th>Share</th>"
        f"<th>Plan</th><th>Why</th></tr></thead><tbody>{rows}</tbody></table>"
        f"<p>Released {t.released}; adjusted {t.adjusted}; credited {t.credited}; advances "
        f"outstanding {t.advances_outstanding}; paid {t.paid}; requested {t.requested}; "
        f"payable {t.payable}.</p></body></html>"
    )
