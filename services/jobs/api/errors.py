"""The jobs domain's errors as HTTP problems: the one place they are mapped.

A job or crew not found, or not the caller's to see, is ``404``; a command the job's own state
does not allow is ``409`` ``conflict``. A policy refusal (``PolicyRefused``) is ``409``
``policy-denied`` in every service that asks the policy layer (mapped by the platform), its body
naming every rule that refused and what is missing.
"""

from __future__ import annotations

from services.jobs.domain import CrewNotFound, JobNotFound, JobRuleBroken
from shared.platform.http.problems import Conflict, NotFound, Problem

ERRORS: dict[type[Exception], type[Problem]] = {
    JobNotFound: NotFound,
    CrewNotFound: NotFound,
    JobRuleBroken: Conflict,
}
