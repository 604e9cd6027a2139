"""The tenants' plan files (``commission_plans/``) as the handlers' ``CommissionPlans``: the plan
in force for the salesman on the day, evaluated on the job."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.commissions.domain.figures import Evaluation, JobFigures
from services.commissions.plans import PlanBook, evaluate


class FilePlans:
    def __init__(self, book: PlanBook) -> None:
        self.book = book

    def evaluate(
        self, tenant: str, salesman_id: str, on: date, job: JobFigures, month_volume: Decimal
    ) -> Evaluation:
        # Teams are not kept yet: a salesman's own plan, else the tenant's default.
        plan = self.book.plan_for(tenant, salesman_id, [], on)
        return evaluate(plan, job, month_volume)
