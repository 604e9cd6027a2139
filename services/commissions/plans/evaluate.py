"""A job's commission under one plan version, explained in words and as data, and the split of an
amount between a job's salesmen.

Plain Python on ``Decimal``, rounded half up to the cent once, at the end. What does not depend on
the job (the kind, the rates, the tiers, the texts of the rates) is worked out once per loaded
plan (``compile_plan``, called by the loader), since a recompute evaluates one plan over a year of
jobs."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from services.commissions.domain.figures import Evaluation, JobFigures
from services.commissions.plans.format import PlanFile

if TYPE_CHECKING:
    from services.commissions.plans.loader import LoadedPlan

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


def money(value: Decimal) -> str:
    """12,750.00: how an amount is written in the lines."""
    return f"{value:,.2f}"


def cents(value: Decimal) -> str:
    """12750.00: an amount in ``figures`` (exact, as text: JSON has no decimals)."""
    return str(value.quantize(CENT))


def percent(rate: Decimal) -> str:
    """8%, 7.5%, 6.125%: no trailing zeros (and never 1E+1 for 10)."""
    return f"{rate.normalize():f}%"


@dataclass(frozen=True, slots=True)
class CompiledTier:
    from_: Decimal
    rate: Decimal
    from_text: str
    rate_text: str


@dataclass(frozen=True, slots=True)
class CompiledPlan:
    """The job-independent part of a plan version, ready to evaluate."""

    plan_id: str
    version: str
    hash: str
    kind: str
    rate: Decimal | None
    rate_text: str
    tiers: tuple[CompiledTier, ...]  # highest first: the first reached is the one
    flat_fee: Decimal | None
    advance: Decimal


def compile_plan(spec: PlanFile, content_hash: str) -> CompiledPlan:
    computation = spec.computation
    kind = computation.kind
    percent_kind = computation.percent_of_contract or computation.percent_of_gross_profit
    tiers: tuple[CompiledTier, ...] = ()
    rate: Decimal | None = None
    if percent_kind is not None:
        rate = percent_kind.rate
        tiers = tuple(
            CompiledTier(
                tier.from_.quantize(CENT), tier.rate, money(tier.from_), percent(tier.rate)
            )
            for tier in reversed(percent_kind.tiers)
        )
    return CompiledPlan(
        plan_id=spec.id,
        version=str(spec.version),
        hash=content_hash,
        kind=kind,
        rate=rate,
        rate_text=percent(rate) if rate is not None else "",
        tiers=tiers,
        flat_fee=computation.flat_fee.amount.quantize(CENT) if computation.flat_fee else None,
        advance=spec.advance.amount.quantize(CENT) if spec.advance else ZERO,
    )


def evaluate(plan: LoadedPlan, job: JobFigures, month_volume: Decimal) -> Evaluation:
    """The job's commission under ``plan``, the salesman's volume of the month being
    ``month_volume`` (it picks the tier: the caller decides what it includes)."""
    compiled = plan.compiled
    lines: list[str] = []
    contract_total = job.contract_price + job.change_orders
    figures: dict[str, Any] = {
        "kind": compiled.kind,
        "contract_price": cents(job.contract_price),
        "change_orders": cents(job.change_orders),
        "contract_total": cents(contract_total),
        "month_volume": cents(month_volume),
        "freebie": job.freebie,
    }
    amount = ZERO
    if compiled.kind != "flat_fee" or job.freebie:
        lines.append(_contract_line(job.contract_price, job.change_orders, contract_total))
    if job.freebie:
        lines.append("Freebie: tracked, earns nothing")
    elif compiled.flat_fee is not None:
        amount = compiled.flat_fee
        figures["flat_fee"] = cents(amount)
        lines.append(f"Flat fee per job: {money(amount)}")
    else:
        amount = _percent(compiled, job, contract_total, month_volume, lines, figures)
    advance = ZERO if job.freebie else compiled.advance
    if advance:
        when = f" (on {job.approved_on.isoformat()})" if job.approved_on else ""
        lines.append(f"Advance paid when the job was approved{when}: {money(advance)}")
        release = amount - advance
        owed = f": {money(-release)} of the advance is still owed" if release < 0 else ""
        lines.append(
            f"At release: {money(amount)} - advance {money(advance)} = {money(release)}{owed}"
        )
    elif job.freebie and compiled.advance:
        lines.append("No advance on a freebie")
    figures["amount"] = cents(amount)
    figures["advance"] = cents(advance)
    figures["release"] = cents(amount - advance)
    # Built from values of the right types: validating them again would cost a third of the time
    # of an evaluation, and a recompute does one per job.
    return Evaluation.model_construct(
        plan_id=compiled.plan_id,
        plan_version=compiled.version,
        plan_hash=compiled.hash,
        amount=amount,
        advance=advance,
        lines=tuple(lines),
        figures=figures,
    )


def _contract_line(price: Decimal, change_orders: Decimal, total: Decimal) -> str:
    if not change_orders:
        return f"Contract {money(price)}, no change orders"
    if change_orders < 0:
        credit = money(-change_orders)
        return f"Contract {money(price)} - change orders (a credit) {credit} = {money(total)}"
    return f"Contract {money(price)} + change orders {money(change_orders)} = {money(total)}"


def _percent(
    compiled: CompiledPlan,
    job: JobFigures,
    contract_total: Decimal,
    month_volume: Decimal,
    lines: list[str],
    figures: dict[str, Any],
) -> Decimal:
    assert compiled.rate is not None  # a percent kind
    rate, rate_text, tier_from = compiled.rate, compiled.rate_text, None
    if compiled.tiers:
        for tier in compiled.tiers:
            if month_volume >= tier.from_:
                rate, rate_text, tier_from = tier.rate, tier.rate_text, tier.from_
                lines.append(
                    f"Tier reached: {tier.from_text} of monthly volume "
                    f"(you had {money(month_volume)}): {rate_text}"
                )
                break
        else:
            lines.append(
                f"No tier reached (you had {money(month_volume)} of monthly volume, the first "
                f"tier starts at {compiled.tiers[-1].from_text}): {rate_text}"
            )
    figures["rate"] = f"{rate.normalize():f}"
    figures["base_rate"] = f"{compiled.rate.normalize():f}"
    figures["tier_from"] = None if tier_from is None else cents(tier_from)
    if compiled.kind == "percent_of_gross_profit":
        base = contract_total - job.costs
        figures["costs"] = cents(job.costs)
        figures["gross_profit"] = cents(base)
        lines.append(
            f"Gross profit: {money(contract_total)} - costs {money(job.costs)} = {money(base)}"
        )
        what = "Gross profit"
    else:
        base = contract_total
        what = "Contract total"
    figures["base"] = cents(base)
    if base < 0:
        lines.append(f"{what} is negative ({money(base)}): earns 0.00")
        return ZERO
    raw = base * rate / HUNDRED
    amount = raw.quantize(CENT, rounding=ROUND_HALF_UP)
    if raw == amount:
        figures["unrounded"] = cents(amount)
        lines.append(f"{rate_text} of {money(base)} = {money(amount)}")
    else:
        exact = raw.normalize()
        figures["unrounded"] = f"{exact:f}"
        lines.append(f"{rate_text} of {money(base)} = {exact:,f}, rounded to {money(amount)}")
    return amount


def split(amount: Decimal, shares: dict[str, Decimal]) -> dict[str, Decimal]:
    """``amount`` (to the cent; negative for a claw-back) between salesmen by percent ``shares``
    that add up to exactly 100: each gets his share to the cent, rounded down, and the cents
    left go one each to the largest remainders (ties: by salesman id), so the parts add up to
    exactly ``amount``. A negative amount is split as its opposite, negated: a claw-back takes
    back what the release gave."""
    if not shares:
        raise ValueError("a split needs at least one salesman")
    negative = [f"{who} {share}" for who, share in shares.items() if share < 0]
    if negative:
        raise ValueError(f"a share is never negative: {', '.join(negative)}")
    total = sum(shares.values(), Decimal(0))
    if total != HUNDRED:
        named = ", ".join(f"{who} {share.normalize():f}%" for who, share in sorted(shares.items()))
        raise ValueError(f"shares add up to {total.normalize():f}%, not 100%: {named}")
    if amount != amount.quantize(CENT):
        raise ValueError(f"split an amount to the cent, not {amount}")
    sign = -1 if amount < 0 else 1
    cents = int(abs(amount) * 100)
    parts: dict[str, int] = {}
    remainders: list[tuple[Decimal, str]] = []
    for who, share in shares.items():
        exact = cents * share / HUNDRED
        floor = int(exact)  # non-negative: int() rounds down
        parts[who] = floor
        remainders.append((exact - floor, who))
    left = cents - sum(parts.values())
    # Largest remainder first; for equal remainders the lower salesman id first.
    remainders.sort(key=lambda item: (-item[0], item[1]))
    for _, who in remainders[:left]:
        parts[who] += 1
    return {who: Decimal(sign * part).scaleb(-2) for who, part in parts.items()}
