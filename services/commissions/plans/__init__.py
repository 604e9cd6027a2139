"""Commission plans as files (issue 16): the format, the loader and the book of versions, the
evaluation that explains itself, and the split between a job's salesmen. Pure: no database, no
HTTP. See ``commission_plans/README.md``."""

from services.commissions.plans.evaluate import evaluate, split
from services.commissions.plans.loader import (
    LoadedPlan,
    PlanBook,
    PlanFileInvalid,
    PlanProblem,
    load_plan_file,
    load_plans,
    parse_plan,
    read_plans,
)

__all__ = [
    "LoadedPlan",
    "PlanBook",
    "PlanFileInvalid",
    "PlanProblem",
    "evaluate",
    "load_plan_file",
    "load_plans",
    "parse_plan",
    "read_plans",
    "split",
]
