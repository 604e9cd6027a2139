"""The job file: contract, line items, measurements, materials, insurance, documents, change
orders, permits and inspections."""

from __future__ import annotations

from typing import Any

from services.jobs.domain import Job
from services.jobs.domain.values import (
    ChangeOrder,
    Document,
    Inspection,
    InsuranceClaim,
    LineItem,
    Materials,
    Measurements,
)
from services.jobs.handlers.common import (
    simple_change,
)
from services.jobs.ports import JobsDeps
from shared.platform.http.auth import Caller


async def sign_contract(
    deps: JobsDeps, caller: Caller, job_id: str, command: Any, *, source: str
) -> Job:
    return await simple_change(
        deps,
        caller,
        job_id,
        "sign_contract",
        lambda job: job.sign_contract(
            signed_on=command.signed_on,
            contract_price=command.contract_price,
            sale_price=command.sale_price,
            by=caller.user_id,
        ),
        source=source,
        detail=command.model_dump(mode="json"),
    )


async def add_line_item(
    deps: JobsDeps, caller: Caller, job_id: str, item: LineItem, *, source: str
) -> Job:
    return await simple_change(
        deps,
        caller,
        job_id,
        "add_line_item",
        lambda job: job.add_line_item(item),
        source=source,
        detail=item.model_dump(mode="json"),
    )


async def complete_line_item(
    deps: JobsDeps, caller: Caller, job_id: str, line_item_id: str, *, source: str
) -> Job:
    return await simple_change(
        deps,
        caller,
        job_id,
        "complete_line_item",
        lambda job: job.complete_line_item(line_item_id, at=deps.clock()),
        source=source,
        detail={"line_item_id": line_item_id},
    )


async def record_measurements(
    deps: JobsDeps, caller: Caller, job_id: str, measurements: Measurements, *, source: str
) -> Job:
    return await simple_change(
        deps,
        caller,
        job_id,
        "record_measurements",
        lambda job: job.record_measurements(measurements, by=caller.user_id, at=deps.clock()),
        source=source,
        detail=measurements.model_dump(mode="json"),
    )


async def record_materials(
    deps: JobsDeps, caller: Caller, job_id: str, materials: Materials, *, source: str
) -> Job:
    return await simple_change(
        deps,
        caller,
        job_id,
        "record_materials",
        lambda job: job.record_materials(materials, by=caller.user_id, at=deps.clock()),
        source=source,
        detail=materials.model_dump(mode="json"),
    )


async def record_insurance(
    deps: JobsDeps, caller: Caller, job_id: str, claim: InsuranceClaim, *, source: str
) -> Job:
    return await simple_change(
        deps,
        caller,
        job_id,
        "record_insurance",
        lambda job: job.record_insurance(claim),
        source=source,
        detail=claim.model_dump(mode="json"),
    )


async def add_document(
    deps: JobsDeps, caller: Caller, job_id: str, document: Document, *, source: str
) -> Job:
    """The uploader is the caller: their id and the roles they hold now are recorded with the
    document (rules may count only some roles' photos, e.g. the project manager's)."""
    document = Document.model_validate(
        document.model_dump()
        | {"uploaded_by": caller.user_id, "uploaded_by_roles": sorted(caller.roles)}
    )
    return await simple_change(
        deps,
        caller,
        job_id,
        "add_document",
        lambda job: job.add_document(document),
        source=source,
        detail=document.model_dump(mode="json"),
    )


async def add_change_order(
    deps: JobsDeps, caller: Caller, job_id: str, change_order: ChangeOrder, *, source: str
) -> Job:
    return await simple_change(
        deps,
        caller,
        job_id,
        "add_change_order",
        lambda job: job.add_change_order(change_order),
        source=source,
        detail=change_order.model_dump(mode="json"),
    )


async def record_permit(
    deps: JobsDeps,
    caller: Caller,
    job_id: str,
    status: str | None,
    number: str | None,
    *,
    source: str,
) -> Job:
    return await simple_change(
        deps,
        caller,
        job_id,
        "record_permit",
        lambda job: job.record_permit(status, number),
        source=source,
        detail={"permit_status": status, "permit_number": number},
    )


async def record_inspection(
    deps: JobsDeps, caller: Caller, job_id: str, inspection: Inspection, *, source: str
) -> Job:
    return await simple_change(
        deps,
        caller,
        job_id,
        "record_inspection",
        lambda job: job.record_inspection(inspection, by=caller.user_id, at=deps.clock()),
        source=source,
        detail=inspection.model_dump(mode="json"),
    )
