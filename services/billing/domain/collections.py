"""Collections under policy (seed 002, "Following up on repairs"): "We do not collect money from
an unhappy customer until the issue is resolved"; "We never want to assume that the homeowner is
lying" (a hold needs no proof); a concession negotiated by production; "Once all steps to make
the homeowner happy have been taken and they refuse to pay still the file will need to be passed
on to a billing manager of the corporate office."

What is decided (hold, escalate, tell production) is the ``collections`` policy's, asked at
``billing.collect_payment`` with the facts this module builds from what billing knows of the
customer: the complaints and repairs tickets reports open, the latest survey rating, refusals,
concessions.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.billing.domain.ledger import PositiveCents
from shared.contracts.billing import (
    CollectionHeld,
    CollectionReleased,
    CollectPaymentFacts,
    Concession,
    CustomerStanding,
    Repairs,
)
from shared.contracts.messaging import SurveyAnswered
from shared.contracts.tickets import IssueOpened, IssueResolved

IssueKind = Literal["complaint", "field_issue"]
EscalationDecision = Literal["payment_plan", "write_off", "collection_agency", "legal"]


class Standing(BaseModel):
    """What billing knows of the customer's satisfaction on one job."""

    model_config = ConfigDict(frozen=True)

    open_issues: dict[str, IssueKind] = Field(
        default_factory=dict, description="Open complaints and field issues, by ticket."
    )
    rating: int | None = Field(None, description="The latest survey's overall rating, 1-5.")
    held_since: datetime | None = None
    hold_reasons: tuple[str, ...] = ()
    refusals: int = 0

    @property
    def repairs_complete(self) -> bool:
        return not self.open_issues

    def facts(
        self, *, balance: Decimal, concessions: Decimal, refused: bool = False
    ) -> CollectPaymentFacts:
        kinds = list(self.open_issues.values())
        return CollectPaymentFacts(
            customer=CustomerStanding(
                open_complaints=kinds.count("complaint"),
                open_repair_tickets=kinds.count("field_issue"),
                satisfaction_rating=self.rating,
                refused_to_pay=refused,
            ),
            repairs=Repairs(complete=self.repairs_complete),
            concession=Concession(
                offered=concessions > 0, amount=concessions if concessions > 0 else None
            ),
            balance=max(balance, Decimal("0.00")),
        )


def standing_change(
    standing: Standing, event: IssueOpened | IssueResolved | SurveyAnswered
) -> dict[str, object] | None:
    """What an event changes in the customer's standing on the job (None: nothing): a complaint
    or field issue opened or resolved (tickets), a survey's rating (messaging)."""
    if isinstance(event, IssueOpened):
        return {"open_issues": standing.open_issues | {event.ticket_id: event.kind}}
    if isinstance(event, IssueResolved):
        if event.ticket_id not in standing.open_issues:
            return None
        return {
            "open_issues": {k: v for k, v in standing.open_issues.items() if k != event.ticket_id}
        }
    return {"rating": event.rating}


HeldOrReleased = CollectionHeld | CollectionReleased
RELEASED = "repairs complete: collection may go ahead"


def held_or_released(
    job_id: str, standing: Standing, holds: list[str], at: datetime, by: str
) -> tuple[Standing, TimelineLine | None, HeldOrReleased | None]:
    """The standing after the policy's holds (their reasons): held when the first comes,
    released when the last goes, with the timeline line and the event of each; else as it was."""
    if holds and standing.held_since is None:
        held = standing.model_copy(update={"held_since": at, "hold_reasons": tuple(holds)})
        line = TimelineLine(at=at, kind="hold", text="; ".join(holds), by=by)
        return held, line, CollectionHeld(job_id=job_id, reasons=holds)
    if not holds and standing.held_since is not None:
        released = standing.model_copy(update={"held_since": None, "hold_reasons": ()})
        line = TimelineLine(at=at, kind="release", text=RELEASED, by=by)
        return released, line, CollectionReleased(job_id=job_id, reason=RELEASED)
    return standing, None, None


class NewConcession(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: PositiveCents
    reason: str = Field(min_length=1, max_length=1000)


class Refusal(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    note: str = Field(
        min_length=1, max_length=2000, examples=["Will not pay until the gutter is fixed"]
    )


class Decide(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    decision: EscalationDecision
    note: str = Field(min_length=1, max_length=2000)


class Escalation(BaseModel):
    model_config = ConfigDict(frozen=True)

    escalation_id: str
    job_id: str
    reason: str
    opened_at: datetime
    decision: EscalationDecision | None = None
    note: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


class TimelineLine(BaseModel):
    """One line of the job's billing timeline: a hold, release, concession, refusal,
    escalation, decision, payment..."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    kind: str
    text: str
    by: str


class EscalationNotFound(LookupError):
    """No open escalation by that id in the caller's tenant."""
