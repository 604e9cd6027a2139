"""Money as every service computes it: ``Decimal``, rounded to the cent half up (17.465 -> 17.47),
as invoices and the accounting system round; never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)
