"""What the jobs routers share: the role groups their access tables are made of, and the answer
to a command on a job.

Who may call a route is its router's ``ACCESS`` table (admin always may); the policy layer
decides the business rules within. Installers and technicians see only jobs their crew is on.
"""

from __future__ import annotations

from services.jobs.api.models import JobView
from services.jobs.domain import Job
from services.jobs.handlers import queries
from services.jobs.ports import JobsDeps
from shared.contracts.roles import FIELD_ROLES, OFFICE_ROLES
from shared.platform.http.auth import Caller

LEAD_TAKERS = ("sales", "csa", "project_manager", "production_manager")
PIPELINE_MOVERS = ("sales", "csa", "production_manager", "project_manager")
APPROVERS = ("csa", "production_manager")
FILE_EDITORS = (
    "sales",
    "csa",
    "production",
    "production_manager",
    "project_manager",
    "trade_manager",
)
PRODUCTION = ("production", "production_manager", "trade_manager")
FIELD = tuple(sorted(FIELD_ROLES))
OFFICE = OFFICE_ROLES


async def job_answer(deps: JobsDeps, caller: Caller, changed: Job) -> JobView:
    """A command's answer: the job it left, and which services have answered the lead."""
    return JobView.of(changed, await queries.acknowledgements(deps, caller, changed.job_id))
