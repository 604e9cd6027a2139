"""The job file: contract, line items, measurements, materials, insurance, documents, change
orders, permits and inspections. Each is a plain change of the job (``change_job``): the same
decisions as any change, the audit row keeping what was recorded."""

from __future__ import annotations

from services.jobs.domain import Job
from services.jobs.domain.commands import (
    AddChangeOrder,
    AddDocument,
    AddLineItem,
    CompleteLineItem,
    RecordInspection,
    RecordInsurance,
    RecordMaterials,
    RecordMeasurements,
    RecordPermit,
    SignContract,
)
from services.jobs.domain.values import Document
from services.jobs.handlers.common import JobChange, change_job
from services.jobs.ports import JobsDeps
from shared.platform.http.auth import Caller


async def sign_contract(deps: JobsDeps, caller: Caller, command: SignContract) -> Job:
    detail = command.model_dump(mode="json", exclude={"job_id"})
    return await change_job(
        deps,
        caller,
        JobChange("sign_contract", command.job_id, detail=detail),
        lambda uow, job: job.sign_contract(
            signed_on=command.signed_on,
            contract_price=command.contract_price,
            sale_price=command.sale_price,
            by=caller.user_id,
        ),
    )


async def add_line_item(deps: JobsDeps, caller: Caller, command: AddLineItem) -> Job:
    item = command.item
    return await change_job(
        deps,
        caller,
        JobChange("add_line_item", command.job_id, detail=item.model_dump(mode="json")),
        lambda uow, job: job.add_line_item(item),
    )


async def complete_line_item(deps: JobsDeps, caller: Caller, command: CompleteLineItem) -> Job:
    item_id = command.line_item_id
    return await change_job(
        deps,
        caller,
        JobChange("complete_line_item", command.job_id, detail={"line_item_id": item_id}),
        lambda uow, job: job.complete_line_item(item_id, at=deps.clock()),
    )


async def record_measurements(deps: JobsDeps, caller: Caller, command: RecordMeasurements) -> Job:
    measurements = command.measurements
    return await change_job(
        deps,
        caller,
        JobChange(
            "record_measurements", command.job_id, detail=measurements.model_dump(mode="json")
        ),
        lambda uow, job: job.record_measurements(measurements, by=caller.user_id, at=deps.clock()),
    )


async def record_materials(deps: JobsDeps, caller: Caller, command: RecordMaterials) -> Job:
    materials = command.materials
    return await change_job(
        deps,
        caller,
        JobChange("record_materials", command.job_id, detail=materials.model_dump(mode="json")),
        lambda uow, job: job.record_materials(materials, by=caller.user_id, at=deps.clock()),
    )


async def record_insurance(deps: JobsDeps, caller: Caller, command: RecordInsurance) -> Job:
    claim = command.claim
    return await change_job(
        deps,
        caller,
        JobChange("record_insurance", command.job_id, detail=claim.model_dump(mode="json")),
        lambda uow, job: job.record_insurance(claim),
    )


async def add_document(deps: JobsDeps, caller: Caller, command: AddDocument) -> Job:
    """The uploader is the caller: their id and the roles they hold now are recorded with the
    document (rules may count only some roles' photos, e.g. the project manager's)."""
    document = Document.model_validate(
        command.document.model_dump()
        | {"uploaded_by": caller.user_id, "uploaded_by_roles": sorted(caller.roles)}
    )
    return await change_job(
        deps,
        caller,
        JobChange("add_document", command.job_id, detail=document.model_dump(mode="json")),
        lambda uow, job: job.add_document(document),
    )


async def add_change_order(deps: JobsDeps, caller: Caller, command: AddChangeOrder) -> Job:
    change_order = command.change_order
    return await change_job(
        deps,
        caller,
        JobChange("add_change_order", command.job_id, detail=change_order.model_dump(mode="json")),
        lambda uow, job: job.add_change_order(change_order),
    )


async def record_permit(deps: JobsDeps, caller: Caller, command: RecordPermit) -> Job:
    status, number = command.permit_status, command.permit_number
    return await change_job(
        deps,
        caller,
        JobChange(
            "record_permit",
            command.job_id,
            detail={"permit_status": status, "permit_number": number},
        ),
        lambda uow, job: job.record_permit(status, number),
    )


async def record_inspection(deps: JobsDeps, caller: Caller, command: RecordInspection) -> Job:
    inspection = command.inspection
    return await change_job(
        deps,
        caller,
        JobChange("record_inspection", command.job_id, detail=inspection.model_dump(mode="json")),
        lambda uow, job: job.record_inspection(inspection, by=caller.user_id, at=deps.clock()),
    )
