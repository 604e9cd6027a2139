from __future__ import annotations

from datetime import UTC, datetime

from services.jobs.domain import Lead


def test_a_new_lead_awaits_every_service_and_its_event_matches() -> None:
    lead, event = Lead.create(
        tenant_id="acme",
        customer_name="  Dana Reyes ",
        property_address="12 Elm St",
        salesman_id="sam",
    )
    assert lead.awaiting == ["billing", "messaging", "commissions", "tickets"]
    assert (event.job_id, event.customer_name, event.salesman_id) == (
        lead.job_id,
        "Dana Reyes",
        "sam",
    )


def test_acknowledged_services_are_no_longer_awaited() -> None:
    lead, _ = Lead.create(
        tenant_id="acme", customer_name="D", property_address="A", salesman_id="sam"
    )
    lead.acknowledged_by["tickets"] = datetime.now(UTC)
    assert lead.awaiting == ["billing", "messaging", "commissions"]
