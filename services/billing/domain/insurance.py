"""Insurance on a job (seed 000, seed 002): the carrier and the claim, the adjuster's summary line
by line (RCV, recoverable depreciation, ACV), the deductible, supplements, and the recoverable
depreciation released for completed line items only.

A summary line is *installed* when the job's line item doing its work is completed: the line
item named by the summary line (``line_item_id``), else the one whose ``insurance_line_ref`` is
the summary line's code. The carrier's deadline for claiming the depreciation comes from the
``depreciation_deadlines`` policy's table: the carrier's row (else the ``*`` row), counted from
the date of loss or from the ACV payment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from services.billing.domain.folder import JobLine
from services.billing.domain.ledger import PositiveCents

# An amount from the adjuster's summary: whole cents, zero or more.
Cents = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
ZERO = Decimal("0.00")
ANY_CARRIER = "*"

SupplementStatus = Literal["requested", "approved", "denied"]
# What the depreciation watch last told about the claim (it tells again only when this changes).
Notice = Literal["", "notify", "escalate"]


class SummaryLine(BaseModel):
    """One line of the insurance summary as the office enters it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(min_length=1, max_length=40, description="The summary's line number/code.")
    description: str = Field(min_length=1, max_length=300)
    quantity: Decimal = Field(Decimal("1"), ge=0, max_digits=12, decimal_places=4)
    rcv: Cents = Field(description="Replacement cost value.")
    depreciation: Cents = Field(ZERO, description="Recoverable depreciation (RCV - ACV).")
    line_item_id: str | None = Field(
        None,
        max_length=100,
        description="The job's line item doing this work (unset: the one whose "
        "insurance_line_ref is this code).",
    )

    @model_validator(mode="after")
    def _depreciation_within_rcv(self) -> SummaryLine:
        if self.depreciation > self.rcv:
            raise ValueError(
                f"line {self.code}: depreciation {self.depreciation} is more than its RCV "
                f"{self.rcv}"
            )
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def acv(self) -> Decimal:
        """Actual cash value: what the carrier pays before the work is done."""
        return self.rcv - self.depreciation


class ClaimLine(SummaryLine):
    """A summary line as kept: with the invoice that claimed its depreciation, once released."""

    model_config = ConfigDict(frozen=True, extra="ignore")  # as stored: with its ACV

    released_on: date | None = None
    released_by_invoice: str | None = None


class ClaimIn(BaseModel):
    """The claim and its summary as the office records it (``PUT``: the whole of it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    carrier: str = Field(min_length=1, max_length=200)
    claim_number: str = Field(min_length=1, max_length=100)
    date_of_loss: date | None = None
    acv_paid_on: date | None = Field(None, description="When the carrier paid the ACV.")
    deductible: Cents = ZERO
    lines: list[SummaryLine] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _codes_unique(self) -> ClaimIn:
        codes = [line.code for line in self.lines]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise ValueError(f"summary line code(s) {', '.join(repeated)} appear more than once")
        return self


class ReportedTotals(BaseModel):
    """The summary's totals as jobs reported them (``jobs.insurance_recorded``): the detailed
    invoice shows any difference from the sum of the lines."""

    model_config = ConfigDict(frozen=True)

    rcv: Decimal | None = None
    acv: Decimal | None = None
    depreciation: Decimal | None = None


class NewSupplement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str = Field(min_length=1, max_length=300)
    amount: PositiveCents
    justification: str = Field(min_length=1, max_length=2000)


class SupplementDecision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    approved: bool
    amount: PositiveCents | None = Field(
        None, description="Approved amount, if the carrier approved less than asked."
    )
    note: str = Field("", max_length=2000)


class Supplement(BaseModel):
    model_config = ConfigDict(frozen=True)

    supplement_id: str
    description: str
    amount: Decimal = Field(description="Asked of the carrier.")
    justification: str
    status: SupplementStatus = "requested"
    requested_by: str
    requested_at: datetime
    approved_amount: Decimal | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str = ""
    record_id: str | None = Field(None, description="The money record of an approved one.")


class Deadline(BaseModel):
    model_config = ConfigDict(frozen=True)

    due: date
    days: int
    counted_from: str


class Claim(BaseModel):
    model_config = ConfigDict(frozen=True)

    job_id: str
    carrier: str
    claim_number: str
    date_of_loss: date | None = None
    acv_paid_on: date | None = None
    deductible: Decimal = ZERO
    lines: tuple[ClaimLine, ...] = ()
    supplements: tuple[Supplement, ...] = ()
    reported: ReportedTotals = ReportedTotals()
    notice: Notice = ""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rcv(self) -> Decimal:
        return sum((line.rcv for line in self.lines), ZERO)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def depreciation(self) -> Decimal:
        return sum((line.depreciation for line in self.lines), ZERO)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def acv(self) -> Decimal:
        return self.rcv - self.depreciation

    @computed_field  # type: ignore[prop-decorator]
    @property
    def released(self) -> Decimal:
        return sum((ln.depreciation for ln in self.lines if ln.released_on is not None), ZERO)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def outstanding(self) -> Decimal:
        """Recoverable depreciation not yet claimed from the carrier."""
        return self.depreciation - self.released

    def recorded(self, new: ClaimIn) -> Claim:
        """The claim as the office now records it. Lines whose depreciation was invoiced stay as
        they were: ``ClaimLocked`` if the new summary drops or changes one."""
        kept = {line.code: line for line in self.lines if line.released_on is not None}
        lines = []
        given = {line.code: line for line in new.lines}
        for code, released in kept.items():
            again = given.get(code)
            same = {"released_on", "released_by_invoice"}
            if again is None or released.model_dump(exclude=same) != again.model_dump():
                raise ClaimLocked(
                    f"summary line {code}: its depreciation was invoiced on "
                    f"{released.released_by_invoice}; it cannot change (correct the invoice "
                    "with a credit note)"
                )
        for line in new.lines:
            lines.append(kept.get(line.code) or ClaimLine.model_validate(line.model_dump()))
        header = new.model_dump(exclude={"lines"})
        return self.model_copy(update={**header, "lines": tuple(lines)})

    def installed(self, line: SummaryLine, job_lines: Iterable[JobLine]) -> bool:
        """Whether the job's line item doing this summary line's work is completed."""
        job_line = job_line_of(line, job_lines)
        return job_line is not None and job_line.completed

    def unreleased(self) -> list[ClaimLine]:
        """Lines with recoverable depreciation still to claim."""
        return [ln for ln in self.lines if ln.released_on is None and ln.depreciation > 0]

    def released_lines(self, codes: Iterable[str], on: date, invoice_number: str) -> Claim:
        chosen = set(codes)
        lines = tuple(
            ln.model_copy(update={"released_on": on, "released_by_invoice": invoice_number})
            if ln.code in chosen
            else ln
            for ln in self.lines
        )
        return self.model_copy(update={"lines": lines})

    def deadline(self, table: Iterable[Mapping[str, Any]]) -> Deadline | None:
        """The carrier's deadline for claiming depreciation, from the policy's table (the
        carrier's row, else ``*``); None while the date it counts from is unknown."""
        rows = {str(row["carrier"]).strip().casefold(): row for row in table}
        row = rows.get(self.carrier.strip().casefold()) or rows.get(ANY_CARRIER)
        if row is None:
            return None
        start = self.date_of_loss if row["counted_from"] == "date_of_loss" else self.acv_paid_on
        if start is None:
            return None
        days = int(row["days"])
        return Deadline(
            due=start + timedelta(days=days), days=days, counted_from=str(row["counted_from"])
        )

    def supplement(self, supplement_id: str) -> Supplement:
        for found in self.supplements:
            if found.supplement_id == supplement_id:
                return found
        raise ClaimNotFound(f"no supplement {supplement_id} on job {self.job_id}'s claim")

    def with_supplement(self, changed: Supplement) -> Claim:
        others = [s for s in self.supplements if s.supplement_id != changed.supplement_id]
        ordered = sorted([*others, changed], key=lambda s: s.requested_at)
        return self.model_copy(update={"supplements": tuple(ordered)})


class ClaimView(Claim):
    """The claim as read: with the carrier's deadline for its depreciation, if known."""

    depreciation_deadline: Deadline | None = None


class ClaimNotFound(LookupError):
    """No insurance claim (or no such supplement) on the job."""


class ClaimLocked(ValueError):
    """A summary line whose depreciation was invoiced cannot change."""


class SupplementDecided(ValueError):
    """A supplement is decided once."""


class NothingToRelease(ValueError):
    """No line's depreciation can be released now: the reasons, line by line."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons) or "no recoverable depreciation left to release")
        self.reasons = reasons


# -- the detailed invoice (seed 002) ---------------------------------------------------------------


class DetailRow(BaseModel):
    """A summary line beside what the job bills for its work."""

    model_config = ConfigDict(frozen=True)

    code: str
    description: str
    quantity: Decimal
    rcv: Decimal
    depreciation: Decimal
    acv: Decimal
    installed: bool
    depreciation_released: bool
    billed_as: str | None = Field(None, description="The job's line item doing this work.")
    billed: Decimal | None = Field(None, description="What the job's line item bills.")
    difference: Decimal | None = Field(None, description="Billed - RCV: never hidden.")


class Difference(BaseModel):
    model_config = ConfigDict(frozen=True)

    what: str
    summary: Decimal
    invoice: Decimal
    difference: Decimal


class InsuranceDetail(BaseModel):
    """What a detailed invoice adds: "the summary line by line breaking down where each dollar
    is going" (seed 002), its totals, and every difference from the summary."""

    model_config = ConfigDict(frozen=True)

    carrier: str
    claim_number: str
    deductible: Decimal
    rows: tuple[DetailRow, ...]
    rcv: Decimal
    depreciation: Decimal
    acv: Decimal
    depreciation_released: Decimal
    depreciation_outstanding: Decimal
    differences: tuple[Difference, ...]


def job_line_of(line: SummaryLine, job_lines: Iterable[JobLine]) -> JobLine | None:
    """The job's line item doing a summary line's work."""
    for job_line in job_lines:
        if line.line_item_id is not None:
            if job_line.line_item_id == line.line_item_id:
                return job_line
        elif job_line.insurance_line_ref == line.code:
            return job_line
    return None


def insurance_detail(claim: Claim, job_lines: list[JobLine]) -> InsuranceDetail:
    rows = []
    for line in claim.lines:
        job_line = job_line_of(line, job_lines)
        billed = job_line.total.quantize(Decimal("0.01")) if job_line else None
        rows.append(
            DetailRow(
                code=line.code,
                description=line.description,
                quantity=line.quantity,
                rcv=line.rcv,
                depreciation=line.depreciation,
                acv=line.acv,
                installed=job_line.completed if job_line else False,
                depreciation_released=line.released_on is not None,
                billed_as=job_line.description if job_line else None,
                billed=billed,
                difference=None if billed is None else billed - line.rcv,
            )
        )
    differences = [
        Difference(
            what=f"summary {name} as reported",
            summary=reported,
            invoice=total,
            difference=total - reported,
        )
        for name, reported, total in (
            ("RCV", claim.reported.rcv, claim.rcv),
            ("ACV", claim.reported.acv, claim.acv),
            ("recoverable depreciation", claim.reported.depreciation, claim.depreciation),
        )
        if reported is not None and reported != total
    ]
    billed_rows = [row for row in rows if row.billed is not None]
    billed = sum((row.billed or ZERO for row in billed_rows), ZERO)
    summary = sum((row.rcv for row in billed_rows), ZERO)
    if billed != summary:
        differences.append(
            Difference(
                what="the job's line items against the summary lines they do",
                summary=summary,
                invoice=billed,
                difference=billed - summary,
            )
        )
    return InsuranceDetail(
        carrier=claim.carrier,
        claim_number=claim.claim_number,
        deductible=claim.deductible,
        rows=tuple(rows),
        rcv=claim.rcv,
        depreciation=claim.depreciation,
        acv=claim.acv,
        depreciation_released=claim.released,
        depreciation_outstanding=claim.outstanding,
        differences=tuple(differences),
    )
