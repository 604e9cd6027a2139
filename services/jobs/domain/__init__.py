"""The jobs domain: the Job aggregate (pipeline and production), its value objects, crews, the
commands the handlers take, the domain's errors, and the facts the policy layer decides on.
Pure: no I/O."""

from services.jobs.domain.crews import Crew, CrewSuggestion, suggest_crews
from services.jobs.domain.errors import CrewNotFound, JobNotFound, JobRuleBroken
from services.jobs.domain.job import ACKNOWLEDGING_SERVICES, Job
from services.jobs.domain.values import Milestone, ProductionStatus

__all__ = [
    "ACKNOWLEDGING_SERVICES",
    "Crew",
    "CrewNotFound",
    "CrewSuggestion",
    "Job",
    "JobNotFound",
    "JobRuleBroken",
    "Milestone",
    "ProductionStatus",
    "suggest_crews",
]
