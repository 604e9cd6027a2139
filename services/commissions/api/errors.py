"""The commissions domain's errors as HTTP problems: the one place they are mapped."""

from __future__ import annotations

from services.commissions.domain import SalesmanNotFound
from services.commissions.domain.activity import (
    ActivityRefused,
    JobNotKnown,
    RecomputeRefused,
    RecordNotFound,
)
from services.commissions.domain.figures import PlanInvalid, PlanNotFound
from services.commissions.domain.statements import PayoutNotFound, PayoutRefused
from shared.platform.http.problems import Conflict, InvalidInput, NotFound, Problem

ERRORS: dict[type[Exception], type[Problem]] = {
    SalesmanNotFound: NotFound,
    JobNotKnown: NotFound,
    RecordNotFound: NotFound,
    ActivityRefused: Conflict,
    PlanNotFound: Conflict,
    PayoutNotFound: NotFound,
    PayoutRefused: Conflict,
    PlanInvalid: InvalidInput,
    RecomputeRefused: InvalidInput,
}
