"""The billing domain's errors as HTTP problems: the one place they are mapped.

A job billing has no folder for (or another tenant's) is 404; a money command the books cannot
take (reversing a payment twice) and an Idempotency-Key sent again with another request are 409.
"""

from __future__ import annotations

from services.billing.api.financing import (
    LenderErrorProblem,
    LenderNotConfiguredProblem,
    LenderUnavailableProblem,
)
from services.billing.domain import FolderNotFound, IdempotencyKeyReused, PaymentRefused
from services.billing.domain.collections import EscalationNotFound
from services.billing.domain.costs import ExpenseNotFound
from services.billing.domain.exports import ExportNotFound, ExportNotRetryable
from services.billing.domain.financing import (
    FinancingApplicationNotFound,
    FinancingInputInvalid,
    FinancingStep,
    LenderError,
    LenderNotConfigured,
    LenderUnavailable,
)
from services.billing.domain.insurance import (
    ClaimLocked,
    ClaimNotFound,
    NothingToRelease,
    SupplementDecided,
)
from services.billing.domain.invoices import CreditRefused, InvoiceNotFound, InvoiceSentAlready
from services.billing.domain.returned_checks import ReturnedCheckNotFound, ReturnedCheckStep
from shared.platform.http.problems import Conflict, InvalidInput, NotFound, Problem

ERRORS: dict[type[Exception], type[Problem]] = {
    FolderNotFound: NotFound,
    EscalationNotFound: NotFound,
    ExpenseNotFound: NotFound,
    InvoiceNotFound: NotFound,
    InvoiceSentAlready: Conflict,
    ReturnedCheckNotFound: NotFound,
    ReturnedCheckStep: Conflict,
    PaymentRefused: Conflict,
    IdempotencyKeyReused: Conflict,
    ClaimNotFound: NotFound,
    ClaimLocked: Conflict,
    SupplementDecided: Conflict,
    NothingToRelease: Conflict,
    CreditRefused: Conflict,
    FinancingApplicationNotFound: NotFound,
    FinancingStep: Conflict,
    FinancingInputInvalid: InvalidInput,
    LenderUnavailable: LenderUnavailableProblem,
    LenderError: LenderErrorProblem,
    LenderNotConfigured: LenderNotConfiguredProblem,
    ExportNotFound: NotFound,
    ExportNotRetryable: Conflict,
}
