"""The job file: contract, line items, measurements, materials, insurance, documents, change
orders, permits and inspections. Field roles may add documents and photos (to the jobs their
crew is on); the rest is the office's."""

from __future__ import annotations

from collections.abc import Collection

from services.jobs.api.common import FIELD, FILE_EDITORS, job_answer
from services.jobs.api.deps import AnyCaller, Deps
from services.jobs.api.models import (
    Inspection,
    InsuranceClaim,
    JobView,
    Materials,
    Measurements,
    NewChangeOrder,
    NewDocument,
    NewLineItem,
    RecordPermit,
    SignContract,
)
from services.jobs.domain import commands
from services.jobs.domain.values import ChangeOrder, Document, LineItem
from services.jobs.handlers import file
from shared.platform.http.access import GuardedRouter

ACCESS: dict[str, Collection[str]] = {
    "sign_contract": FILE_EDITORS,
    "add_line_item": FILE_EDITORS,
    "complete_line_item": FILE_EDITORS,
    "record_measurements": FILE_EDITORS,
    "record_materials": FILE_EDITORS,
    "record_insurance": FILE_EDITORS,
    "add_document": (*FILE_EDITORS, *FIELD),
    "add_change_order": FILE_EDITORS,
    "record_permit": FILE_EDITORS,
    "record_inspection": FILE_EDITORS,
}

router = GuardedRouter(ACCESS, tags=["jobs"])


@router.post("/jobs/{job_id}/contract", response_model=JobView)
async def sign_contract(job_id: str, body: SignContract, deps: Deps, caller: AnyCaller) -> JobView:
    command = commands.SignContract(job_id=job_id, **body.model_dump())
    return await job_answer(deps, caller, await file.sign_contract(deps, caller, command))


@router.post("/jobs/{job_id}/line-items", response_model=JobView, status_code=201)
async def add_line_item(job_id: str, body: NewLineItem, deps: Deps, caller: AnyCaller) -> JobView:
    command = commands.AddLineItem(job_id=job_id, item=LineItem(**body.model_dump()))
    return await job_answer(deps, caller, await file.add_line_item(deps, caller, command))


@router.post("/jobs/{job_id}/line-items/{line_item_id}/complete", response_model=JobView)
async def complete_line_item(
    job_id: str, line_item_id: str, deps: Deps, caller: AnyCaller
) -> JobView:
    command = commands.CompleteLineItem(job_id=job_id, line_item_id=line_item_id)
    return await job_answer(deps, caller, await file.complete_line_item(deps, caller, command))


@router.post("/jobs/{job_id}/measurements", response_model=JobView)
async def record_measurements(
    job_id: str, body: Measurements, deps: Deps, caller: AnyCaller
) -> JobView:
    command = commands.RecordMeasurements(job_id=job_id, measurements=body)
    return await job_answer(deps, caller, await file.record_measurements(deps, caller, command))


@router.post("/jobs/{job_id}/materials", response_model=JobView)
async def record_materials(job_id: str, body: Materials, deps: Deps, caller: AnyCaller) -> JobView:
    """The material specification, colour confirmation, order and delivery."""
    command = commands.RecordMaterials(job_id=job_id, materials=body)
    return await job_answer(deps, caller, await file.record_materials(deps, caller, command))


@router.post("/jobs/{job_id}/insurance", response_model=JobView)
async def record_insurance(
    job_id: str, body: InsuranceClaim, deps: Deps, caller: AnyCaller
) -> JobView:
    command = commands.RecordInsurance(job_id=job_id, claim=body)
    return await job_answer(deps, caller, await file.record_insurance(deps, caller, command))


@router.post("/jobs/{job_id}/documents", response_model=JobView, status_code=201)
async def add_document(job_id: str, body: NewDocument, deps: Deps, caller: AnyCaller) -> JobView:
    """Document or photo metadata (the file itself lives where ``location`` says)."""
    document = Document(**body.model_dump(), uploaded_by=caller.user_id, uploaded_at=deps.clock())
    command = commands.AddDocument(job_id=job_id, document=document)
    return await job_answer(deps, caller, await file.add_document(deps, caller, command))


@router.post("/jobs/{job_id}/change-orders", response_model=JobView, status_code=201)
async def add_change_order(
    job_id: str, body: NewChangeOrder, deps: Deps, caller: AnyCaller
) -> JobView:
    """Signed scope change (positive or negative): changes the contract price, audited."""
    change_order = ChangeOrder(**body.model_dump(), by=caller.user_id)
    command = commands.AddChangeOrder(job_id=job_id, change_order=change_order)
    return await job_answer(deps, caller, await file.add_change_order(deps, caller, command))


@router.post("/jobs/{job_id}/permit", response_model=JobView)
async def record_permit(job_id: str, body: RecordPermit, deps: Deps, caller: AnyCaller) -> JobView:
    command = commands.RecordPermit(job_id=job_id, **body.model_dump())
    return await job_answer(deps, caller, await file.record_permit(deps, caller, command))


@router.post("/jobs/{job_id}/inspections", response_model=JobView, status_code=201)
async def record_inspection(
    job_id: str, body: Inspection, deps: Deps, caller: AnyCaller
) -> JobView:
    """Framing, footer or final inspection; a failed one puts the job back to In Progress."""
    command = commands.RecordInspection(job_id=job_id, inspection=body)
    return await job_answer(deps, caller, await file.record_inspection(deps, caller, command))
