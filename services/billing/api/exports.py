"""The accounting export as the office sees it: each document's status, attempts, last error
and QuickBooks id; the failed ones; a failed (or refused) one sent again."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from services.billing.api.deps import Deps
from services.billing.domain.exports import DocType, ExportStatus
from services.billing.handlers import exports
from services.billing.handlers.exports import ExportView
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller
from shared.platform.http.edge import Limit, Offset

BILLING = ("billing", "billing_manager")
ACCESS = {
    "list_exports": BILLING,
    "read_export": BILLING,
    "retry_export": BILLING,
}

router = GuardedRouter(ACCESS, tags=["accounting export"])
AnyCaller = Annotated[Caller, Depends(current_caller)]
DocId = Annotated[str, Path(min_length=1, max_length=320)]


@router.get("/exports", response_model=list[ExportView])
async def list_exports(
    deps: Deps,
    caller: AnyCaller,
    status: ExportStatus | None = None,
    doc_type: DocType | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[ExportView]:
    """Documents for the accounting system, latest changed first (``?status=failed``: what
    needs a look)."""
    return await exports.exports_listed(
        deps, caller, status=status, doc_type=doc_type, limit=limit, offset=offset
    )


@router.get("/exports/{doc_type}/{doc_id}", response_model=ExportView)
async def read_export(
    doc_type: DocType, doc_id: DocId, deps: Deps, caller: AnyCaller
) -> ExportView:
    """One document's export: status, attempts, last error, QuickBooks' id (a customer's id is
    their email, else their name, in lower case)."""
    return await exports.export_of(deps, caller, doc_type, doc_id)


@router.post("/exports/{doc_type}/{doc_id}/retry", response_model=ExportView)
async def retry_export(
    doc_type: DocType, doc_id: DocId, deps: Deps, caller: AnyCaller
) -> ExportView:
    """Send a failed document again (same request id: a copy that landed is recognised); a
    refused one is asked of ``accounting.create_record`` again (409 while refused). 409 if it
    was exported."""
    return await exports.retry_export(deps, caller, doc_type, doc_id)
