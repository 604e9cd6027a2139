"""The billing domain. Pure: no I/O, no framework.

Thin slice: every job has a finance folder, opened when its lead comes in.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class FinanceFolder(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str
    customer_name: str


class FinanceFolderRecord(FinanceFolder):
    """A finance folder as kept: with when it was opened."""

    tenant_id: str
    opened_at: datetime


class FolderNotFound(LookupError):
    """No finance folder for that job in the caller's tenant."""
