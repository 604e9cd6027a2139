"""The Job aggregate: a job from lead to closed, its production workflow, and the events each
change records.

Pure: no I/O, no policy. A command method checks the job's own structure (a closed job takes no
changes, a job is scheduled only after the hand-off, ...), changes the job and returns the events
it recorded; it raises ``JobRuleBroken`` and changes nothing when it cannot apply. What the
business allows (who may move what, what a complete file is) is decided by the policy layer in
the handlers before a command reaches the job.

The commands live in four modules by area (``pipeline``, ``file``, ``production``, and
``billing`` for billing's events), the data and shared steps in ``state``; ``Job`` is all of
them.
"""

from __future__ import annotations

from services.jobs.domain.billing import JobBilling
from services.jobs.domain.file import JobFile
from services.jobs.domain.pipeline import JobPipeline
from services.jobs.domain.production import JobProduction
from services.jobs.domain.state import ACKNOWLEDGING_SERVICES

__all__ = ["ACKNOWLEDGING_SERVICES", "Job"]


class Job(JobPipeline, JobFile, JobProduction, JobBilling):
    """A job: create one with ``Job.create_lead(...)``."""
