"""What the billing routes are given by the composition root (``services/billing/app.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.billing.ports import BillingDeps
from shared.platform.http.provided import Provided

billing_deps = Provided[BillingDeps]("billing dependencies")
Deps = Annotated[BillingDeps, Depends(billing_deps)]
