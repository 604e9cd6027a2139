from __future__ import annotations

from shared.catalog.jobs import LeadCreated
from shared.events import Envelope
from shared.watch import describe


def test_an_event_is_one_readable_line() -> None:
    envelope = Envelope.wrap(
        LeadCreated(
            job_id="j1", customer_name="Dana", property_address="12 Elm St", salesman_id="sam"
        ),
        source="jobs",
        subject="j1",
        tenant_id="acme",
    )
    line = describe(envelope.to_bytes(10_000))
    assert "jobs.lead_created.v1" in line
    assert "tenant=acme" in line
    assert '"customer_name":"Dana"' in line
    assert "\n" not in line


def test_something_else_on_the_topic_is_shown_not_hidden() -> None:
    assert describe(b"{not json").startswith("(not an event envelope")
