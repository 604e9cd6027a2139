"""What a money record means on the job's books, without I/O: the balance after it, its line in
the billing timeline and its event; and what a balance means for the release (the final
payment reported once, undone if a reversal reopens the balance). The handlers keep what these
return, one record at a time (``handlers/books.py``) or a run of jobs' events at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from services.billing.domain.collections import TimelineLine
from services.billing.domain.folder import Folder
from services.billing.domain.ledger import Balance, MoneyRecord, balance_of
from shared.contracts.billing import FinalPaymentReceived, FinalPaymentReversed, MoneyRecorded


def entry(
    folder: Folder, records: Sequence[MoneyRecord], record: MoneyRecord
) -> tuple[Balance, TimelineLine, MoneyRecorded]:
    """The balance after ``record`` (``records`` include it), its timeline line, its event."""
    balance = balance_of(folder.contract_price, records)
    text = f"{record.kind.replace('_', ' ')} {record.amount}"
    text += f" ({record.method})" if record.method else ""
    text += f": {record.description}" if record.description else ""
    line = TimelineLine(
        at=record.recorded_at,
        kind=record.kind,
        text=f"{text}; balance {balance.balance}",
        by=record.by,
    )
    recorded = MoneyRecorded(
        job_id=folder.job_id,
        record_id=record.record_id,
        kind=record.kind,
        amount=record.amount,
        on=record.on,
        method=record.method,
        financing=record.financing,
        reverses=record.reverses,
        balance=balance.balance,
    )
    return balance, line, recorded


def release(
    folder: Folder, records: Sequence[MoneyRecord], on: date, reason: str
) -> tuple[Folder, FinalPaymentReceived | FinalPaymentReversed | None]:
    """The folder after the balance its records make, and the event if the release changed: a
    completed job paid in full is released (once); a released one owing again is not."""
    balance = balance_of(folder.contract_price, records)
    change = folder.release_after(balance.balance)
    if change == "released":
        paid = balance.payments - balance.refunds - balance.reversals
        return (
            folder.model_copy(update={"released_on": on}),
            FinalPaymentReceived(job_id=folder.job_id, amount=paid, received_on=on),
        )
    if change == "unreleased":
        return (
            folder.model_copy(update={"released_on": None}),
            FinalPaymentReversed(
                job_id=folder.job_id, balance=balance.balance, reason=reason, reversed_on=on
            ),
        )
    return folder, None
