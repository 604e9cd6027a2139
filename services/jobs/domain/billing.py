"""What billing's events tell the job, and the moves they make (seed 004): the invoice sent
(Invoiced), the final payment received (Released) and reversed, the costs settled; and the
Invoiced job Closed "when the balance has been received and all expenses have been entered and
paid".

Billing's facts are kept whatever the job's milestone: they are billing's word, not an edit of
the job (a Closed job stays read-only to its users). Whether the facts allow Closed is the
policy layer's to say (``jobs.change_job``); the handler asks it, and only then moves the job
here. A fact billing had already reported changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from services.jobs.domain.errors import JobRuleBroken
from services.jobs.domain.state import JobState
from services.jobs.domain.values import Milestone, ProductionStatus
from shared.contracts.base import EventData

BILLING = "billing"  # who billing's changes are by, in the job's history
CLOSED_ON_BILLING = "balance received and all expenses entered and paid"


def reversal_reason(reason: str) -> str:
    """The reason a reversal's moves give, in the job's history and to the policy layer."""
    return f"final payment reversed: {reason}"


class JobBilling(JobState):
    """Billing's facts on the job."""

    @property
    def final_payment_received(self) -> bool:
        return self.final_payment_received_at is not None

    @property
    def awaits_payment(self) -> bool:
        """At Invoiced, "to await payment" (seed 004): the milestone billing's facts close."""
        return self.milestone == Milestone.INVOICED

    @property
    def reopens_on_reversal(self) -> bool:
        """A reversal of the final payment would take the job back from Closed."""
        return self.milestone == Milestone.CLOSED and self.final_payment_received

    def receive_invoice_sent(
        self, number: str, *, at: datetime, by: str = BILLING
    ) -> list[EventData]:
        """Billing sent the job's invoice (seed 004: "Once the invoice is sent, you would move
        the job to the Invoiced Milestone"): a Completed job moves to Invoiced; at any other
        milestone (an invoice sent early, or the job invoiced already) nothing changes."""
        if self.milestone != Milestone.COMPLETED:
            return []
        moved = self._set_milestone(
            Milestone.INVOICED, by=by, at=at, reason=f"invoice {number} sent"
        )
        return self._changed([moved])

    def receive_final_payment(self, *, at: datetime, by: str = BILLING) -> list[EventData]:
        """Billing received the final payment: a complete job is Released (otherwise it is
        released when it completes)."""
        if self.final_payment_received:
            return []  # a redelivered payment: nothing changes
        self.final_payment_received_at = at
        recorded: list[EventData] = []
        if self.production_status == ProductionStatus.COMPLETE:
            recorded = self._set_production(
                ProductionStatus.RELEASED, by=by, at=at, reason="final payment received"
            )
        return self._reported(recorded)

    def receive_costs_settled(
        self, settled: bool, total_costs: Decimal, *, at: datetime
    ) -> list[EventData]:
        """Billing says whether every expense of the job is entered and paid (it reports when
        that changes: a new unpaid expense makes it false again). Nothing moves here: an
        Invoiced job may close on it (``close_on_billing``, once the policy allows)."""
        report = self.billing
        if (report.costs_settled, report.total_costs) == (settled, total_costs):
            return []
        self.billing = report.model_copy(
            update={"costs_settled": settled, "total_costs": total_costs, "costs_reported_at": at}
        )
        return self._reported([])  # kept, with no event of jobs' own: not a version

    def close_on_billing(self, *, at: datetime, by: str = BILLING) -> list[EventData]:
        """The policy layer allowed Closed on billing's facts: an Invoiced job is Closed, as
        the office would move it (seed 004)."""
        if not self.awaits_payment:
            raise JobRuleBroken(
                f"only an invoiced job closes on billing's facts "
                f"(the job is {self.milestone.value})"
            )
        return self._changed(
            [self._set_milestone(Milestone.CLOSED, by=by, at=at, reason=CLOSED_ON_BILLING)]
        )

    def receive_final_payment_reversed(
        self, reason: str, *, at: datetime, by: str = BILLING
    ) -> list[EventData]:
        """Billing reversed the final payment (a bounced check, a refund): the balance is owed
        again. A Closed job goes back to Invoiced, to await it (the handler asked the policy
        layer first: a move back); a Released job's production is Complete again, released
        when the payment comes in again. Each history line names the reason. A reversal on a
        job whose final payment is not recorded (never paid, or reversed already) is a no-op."""
        if not self.final_payment_received:
            return []
        why = reversal_reason(reason)
        self.final_payment_received_at = None
        self.billing = self.billing.model_copy(
            update={"final_payment_reversed_at": at, "final_payment_reversal_reason": reason}
        )
        recorded: list[EventData] = []
        if self.milestone == Milestone.CLOSED:
            recorded.append(self._set_milestone(Milestone.INVOICED, by=by, at=at, reason=why))
        if self.production_status == ProductionStatus.RELEASED:
            recorded += self._set_production(ProductionStatus.COMPLETE, by=by, at=at, reason=why)
        return self._reported(recorded)
