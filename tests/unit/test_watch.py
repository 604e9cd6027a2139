from __future__ import annotations

import json

from shared.cli.watch import describe, event_time, merge_by_time
from shared.contracts.jobs import LeadCreated
from shared.platform.messaging.envelope import encode_event


def test_an_event_is_one_readable_line() -> None:
    event = encode_event(
        LeadCreated(
            job_id="j1", customer_name="Dana", property_address="12 Elm St", salesman_id="sam"
        ),
        source="jobs",
        subject="j1",
        tenant_id="acme",
        max_bytes=10_000,
    )
    line = describe(event.body)
    assert "jobs.lead_created.v1" in line
    assert "tenant=acme" in line
    assert '"customer_name":"Dana"' in line
    assert "\n" not in line


def test_something_else_on_the_topic_is_shown_not_hidden() -> None:
    assert describe(b"{not json").startswith("(not an event envelope")


class Record:
    def __init__(self, value: bytes, timestamp: int = 0) -> None:
        self.value, self.timestamp = value, timestamp


def at(second: int, name: str) -> Record:
    return Record(
        json.dumps({"time": f"2026-11-29T10:00:{second:02d}.000000Z", "name": name}).encode()
    )


def test_topics_are_merged_by_the_events_time_each_partition_in_its_order() -> None:
    jobs = [at(1, "lead"), at(5, "assigned")]
    billing = [at(2, "folder")]
    messaging = [at(3, "thread"), at(2, "late clock, kept after thread")]
    merged = merge_by_time([billing, messaging, jobs])
    assert [json.loads(r.value)["name"] for r in merged] == [
        "lead",
        "folder",
        "thread",
        "late clock, kept after thread",
        "assigned",
    ]


def test_a_record_that_is_not_an_envelope_is_placed_by_its_timestamp() -> None:
    stray = Record(b"{not json", timestamp=1_795_000_000_000)  # 2026-11-18
    assert event_time(stray).year == 2026
    assert merge_by_time([[at(1, "lead")], [stray]])[0] is stray
