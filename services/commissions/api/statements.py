"""Views by month and year, statements (JSON, CSV, HTML) and payouts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, Path, Query, status
from fastapi.responses import HTMLResponse, PlainTextResponse

from services.commissions.api.deps import Deps
from services.commissions.api.statement_files import statement_csv, statement_page
from services.commissions.domain.activity import MANAGERS
from services.commissions.domain.statements import NewPayout, Payout, Statement, Summary
from services.commissions.handlers import statements
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller

READERS = (*MANAGERS, "sales")
ACCESS = {
    "salesman_summary": READERS,
    "company_summary": MANAGERS,
    "salesman_statement": READERS,
    "request_payout": READERS,
    "approve_payout": MANAGERS,
    "pay_payout": MANAGERS,
    "list_payouts": READERS,
}

router = GuardedRouter(ACCESS, tags=["commissions"])
AnyCaller = Annotated[Caller, Depends(current_caller)]
Id = Annotated[str, Path(min_length=1, max_length=100)]
Year = Annotated[int, Query(ge=2000, le=2100)]


@router.get("/salesmen/{salesman_id}/summary", response_model=Summary)
async def salesman_summary(salesman_id: Id, year: Year, deps: Deps, caller: AnyCaller) -> Summary:
    """The salesman's year by month: released, adjusted, advances outstanding, paid, payable
    (a salesman reads only their own)."""
    return await statements.summary_of(deps, caller, salesman_id, year)


@router.get("/summary", response_model=Summary)
async def company_summary(year: Year, deps: Deps, caller: AnyCaller) -> Summary:
    """The company's year by month."""
    return await statements.summary_of(deps, caller, None, year)


@router.get(
    "/salesmen/{salesman_id}/statement",
    response_model=Statement,
    responses={
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}},
            }
        }
    },
)
async def salesman_statement(
    salesman_id: Id,
    start: date,
    end: date,
    deps: Deps,
    caller: AnyCaller,
    format: Literal["json", "csv", "html"] = "json",
) -> Statement | PlainTextResponse | HTMLResponse:
    """The records effective in [start, end) with their explanations and totals: JSON, CSV
    (for payroll) or a printable page."""
    found = await statements.statement(deps, caller, salesman_id, start, end)
    if format == "csv":
        return PlainTextResponse(statement_csv(found), media_type="text/csv")
    if format == "html":
        return HTMLResponse(statement_page(found))
    return found


@router.post("/payouts", response_model=Payout, status_code=status.HTTP_201_CREATED)
async def request_payout(body: NewPayout, deps: Deps, caller: AnyCaller) -> Payout:
    """Request what is ready: the salesman's records of the period in no payout yet."""
    return await statements.request_payout(deps, caller, body)


@router.post("/payouts/{payout_id}/approve", response_model=Payout)
async def approve_payout(payout_id: Id, deps: Deps, caller: AnyCaller) -> Payout:
    return await statements.advance_payout(deps, caller, payout_id, to="approved")


@router.post("/payouts/{payout_id}/paid", response_model=Payout)
async def pay_payout(payout_id: Id, deps: Deps, caller: AnyCaller) -> Payout:
    """Paid: it never changes again (a correction is an adjustment, in the next payout)."""
    return await statements.advance_payout(deps, caller, payout_id, to="paid")


@router.get("/payouts", response_model=list[Payout])
async def list_payouts(
    deps: Deps, caller: AnyCaller, salesman_id: str | None = Query(None, max_length=100)
) -> list[Payout]:
    return await statements.payouts_of(deps, caller, salesman_id)
