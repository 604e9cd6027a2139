"""Money as every service computes it: ``Decimal``, rounded to the cent half up (17.465 -> 17.47),
as invoices and the accounting system round; never float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


LONG_NUMBER = re.compile(r"\d{8,}")
SEPARATORS = re.compile(r"[\s.\-/]")


class PaymentReference(BaseModel):
    """Where the customer's payment information is kept (seed 003: "put payment info on file"):
    a reference into the accounting system or the card processor, never a card or account
    number."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kept_in: Literal["quickbooks", "card_processor"]
    reference: str = Field(min_length=1, max_length=100)

    @field_validator("reference")
    @classmethod
    def not_a_card_number(cls, value: str) -> str:
        # Card numbers run 12-19 digits and bank accounts 8-17, however they are spaced or
        # dotted; references to where they are kept ("cus_9Xa71", "QB-1042") are not that long.
        if LONG_NUMBER.search(SEPARATORS.sub("", value)):
            raise ValueError(
                "looks like a card or account number: keep only the reference to where it is "
                "stored (e.g. the card processor's customer id)"
            )
        return value
