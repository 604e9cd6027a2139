"""The messaging domain. Pure: no I/O, no framework.

Thin slice: every job has a message thread, opened when its lead comes in; an installer reads the
threads of the jobs their crew is on.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class Thread(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str
    thread_id: str


class ThreadRecord(Thread):
    """A thread as kept: with when it was opened."""

    tenant_id: str
    recorded_at: datetime


class ThreadNotFound(LookupError):
    """No thread for that job that the caller may read (another tenant's, or for an installer,
    a job their crew is not on: as if it did not exist)."""
