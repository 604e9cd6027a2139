"""The job file: contract, line items, measurements, materials, insurance, documents, change
orders, permits and inspections."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from services.jobs.domain.errors import JobRuleBroken
from services.jobs.domain.state import JobState
from services.jobs.domain.values import (
    MAX_MONEY,
    ChangeOrder,
    Document,
    Financials,
    Inspection,
    InsuranceClaim,
    LineItem,
    Materials,
    Measurements,
    ProductionStatus,
)
from shared.contracts import jobs as events
from shared.contracts.base import EventData


class JobFile(JobState):
    """What the job's file records."""

    # -- the file -------------------------------------------------------------------------------

    def sign_contract(
        self,
        *,
        signed_on: date,
        contract_price: Decimal,
        sale_price: Decimal | None,
        by: str,
    ) -> list[EventData]:
        self._require_open()
        if self.production_status == ProductionStatus.RELEASED:
            raise JobRuleBroken("the job is released: change the price with a change order")
        self._check_contract_price(
            contract_price + sum((co.amount for co in self.change_orders), Decimal("0.00"))
        )
        self.financials = Financials(
            sale_price=sale_price if sale_price is not None else contract_price,
            base_contract_price=contract_price,
            contract_signed_on=signed_on,
        )
        return self._changed(
            [
                events.ContractSigned(
                    job_id=self.job_id,
                    signed_on=signed_on,
                    contract_price=contract_price,
                    sale_price=self.financials.sale_price,
                    by=by,
                )
            ]
        )

    @staticmethod
    def _check_contract_price(price: Decimal) -> None:
        """Each amount fits Money; their sum (the contract price, stored as NUMERIC(12,2)) must
        too."""
        if abs(price) > MAX_MONEY:
            raise JobRuleBroken(
                f"the contract price would be {price}: amounts are at most {MAX_MONEY} either way"
            )

    def _line_items_changed(
        self, change: Literal["added", "completed"], line_item_id: str
    ) -> events.LineItemsChanged:
        return events.LineItemsChanged(
            job_id=self.job_id,
            change=change,
            line_item_id=line_item_id,
            line_items=self.line_item_data(),
            contract_price=self.contract_price,
        )

    def add_line_item(self, item: LineItem) -> list[EventData]:
        self._require_open()
        if any(existing.line_item_id == item.line_item_id for existing in self.line_items):
            raise JobRuleBroken(f"line item {item.line_item_id} already exists")
        self.line_items.append(item.model_copy(update={"completed": False, "completed_at": None}))
        return self._changed([self._line_items_changed("added", item.line_item_id)])

    def complete_line_item(self, line_item_id: str, *, at: datetime) -> list[EventData]:
        self._require_open()
        for index, item in enumerate(self.line_items):
            if item.line_item_id == line_item_id:
                if item.completed:
                    raise JobRuleBroken(f"line item {line_item_id} is already complete")
                self.line_items[index] = item.model_copy(
                    update={"completed": True, "completed_at": at}
                )
                return self._changed([self._line_items_changed("completed", line_item_id)])
        raise JobRuleBroken(f"no line item {line_item_id} on this job")

    def record_measurements(
        self, measurements: Measurements, *, by: str, at: datetime
    ) -> list[EventData]:
        self._require_open()
        self.measurements = measurements
        recorded: list[EventData] = [
            events.MeasurementsRecorded(job_id=self.job_id, **measurements.model_dump())
        ]
        recorded += self._advance_production(ProductionStatus.MEASURED, by=by, at=at)
        return self._changed(recorded)

    def record_materials(self, materials: Materials, *, by: str, at: datetime) -> list[EventData]:
        self._require_open()
        self.materials = materials
        recorded: list[EventData] = [
            events.MaterialsRecorded(job_id=self.job_id, **materials.model_dump())
        ]
        if materials.order_date is not None:
            recorded += self._advance_production(ProductionStatus.ORDERED, by=by, at=at)
        if materials.order_date is not None and self.scheduling.order_date != materials.order_date:
            self.scheduling = self.scheduling.model_copy(
                update={"order_date": materials.order_date}
            )
        return self._changed(recorded)

    def record_insurance(self, claim: InsuranceClaim) -> list[EventData]:
        self._require_open()
        self.insurance = claim
        return self._changed([events.InsuranceRecorded(job_id=self.job_id, **claim.model_dump())])

    def add_document(self, document: Document) -> list[EventData]:
        self._require_open()
        self.documents.append(document)
        return self._changed(
            [
                events.DocumentUploaded(
                    job_id=self.job_id,
                    document_id=document.document_id,
                    type=document.type,
                    checklist=document.checklist,
                    uploaded_by=document.uploaded_by,
                    location=document.location,
                )
            ]
        )

    def add_change_order(self, change_order: ChangeOrder) -> list[EventData]:
        self._require_open()
        if self.financials.base_contract_price is None:
            raise JobRuleBroken("a change order needs a signed contract first")
        assert self.contract_price is not None
        self._check_contract_price(self.contract_price + change_order.amount)
        change_order = change_order.model_copy(
            update={"adjustment": self.production_status == ProductionStatus.RELEASED}
        )
        self.change_orders.append(change_order)
        return self._changed(
            [
                events.ChangeOrderAdded(
                    job_id=self.job_id,
                    change_order_id=change_order.change_order_id,
                    signed_on=change_order.signed_on,
                    amount=change_order.amount,
                    note=change_order.note,
                    by=change_order.by,
                    contract_price=self.contract_price,
                    adjustment=change_order.adjustment,
                    sales_rep_id=self.team.sales_rep_id,
                )
            ]
        )

    def record_permit(self, status: str | None, number: str | None) -> list[EventData]:
        self._require_open()
        self.permits = self.permits.model_copy(
            update={"permit_status": status, "permit_number": number}
        )
        return self._changed(
            [events.PermitRecorded(job_id=self.job_id, permit_status=status, permit_number=number)]
        )

    def record_inspection(
        self, inspection: Inspection, *, by: str, at: datetime
    ) -> list[EventData]:
        """A failed inspection of finished work sends it back: the job is In Progress again."""
        self._require_open()
        self.permits = self.permits.model_copy(
            update={"inspections": (*self.permits.inspections, inspection)}
        )
        recorded: list[EventData] = [
            events.InspectionRecorded(
                job_id=self.job_id, kind=inspection.kind, on=inspection.on, result=inspection.result
            )
        ]
        if inspection.result == "failed" and self.production_status == ProductionStatus.COMPLETE:
            recorded += self._set_production(
                ProductionStatus.IN_PROGRESS,
                by=by,
                at=at,
                reason=f"{inspection.kind} inspection failed",
            )
        return self._changed(recorded)
