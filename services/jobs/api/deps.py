"""What the jobs routes are given: the dependencies the composition root (``services/jobs/app.py``)
provides, and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.jobs.ports import JobsDeps
from shared.platform.http.auth import Caller, current_caller
from shared.platform.http.provided import Provided

jobs_deps = Provided[JobsDeps]("jobs dependencies")
Deps = Annotated[JobsDeps, Depends(jobs_deps)]

# The authenticated caller; which roles may call a route is its router's ACCESS table's business.
AnyCaller = Annotated[Caller, Depends(current_caller)]
