from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from shared.contracts.base import EventData, catalog, catalogued
from shared.platform.messaging.envelope import (
    Envelope,
    EventRejected,
    MessageTooLarge,
    OutgoingEvent,
    encode_event,
    event_headers,
)


@catalogued("unit.thing_happened.v1")
class ThingHappened(EventData):
    thing_id: str
    count: int


def wrapped(max_bytes: int = 10_000, **overrides: object) -> OutgoingEvent:
    return encode_event(
        ThingHappened(thing_id="t1", count=2),
        source="unit",
        subject="t1",
        tenant_id="acme",
        sequence=3,
        max_bytes=max_bytes,
        **overrides,  # type: ignore[arg-type]
    )


def attributes(envelope: Envelope) -> tuple[object, ...]:
    """An envelope's CloudEvents attributes in ``OutgoingEvent``'s order."""
    return (
        envelope.id,
        envelope.type,
        envelope.source,
        envelope.subject,
        envelope.time,
        envelope.tenant_id,
        envelope.correlation_id,
        envelope.causation_id,
        envelope.sequence,
    )


def test_round_trip_through_bytes_keeps_every_attribute() -> None:
    event = wrapped(correlation_id="corr-1", causation_id="cause-1")
    again = Envelope.from_bytes(event.body, 10_000)
    assert attributes(again) == tuple(event[:9])
    assert again.payload() == ThingHappened(thing_id="t1", count=2)


def test_headers_repeat_the_envelope_attributes() -> None:
    envelope = wrapped()
    headers = envelope.headers()
    assert list(headers) == [
        "ce_id",
        "ce_type",
        "ce_source",
        "ce_subject",
        "ce_time",
        "ce_tenant_id",
        "ce_correlation_id",
        "ce_sequence",
    ]
    assert headers["ce_id"] == str(envelope.id)
    assert headers["ce_type"] == "unit.thing_happened.v1"
    assert headers["ce_subject"] == "t1"
    assert headers["ce_tenant_id"] == "acme"
    assert headers["ce_sequence"] == "3"
    assert "ce_causation_id" not in headers  # absent attributes are not sent as "None"
    assert datetime.fromisoformat(headers["ce_time"]) == envelope.time
    assert headers["ce_time"].endswith("Z")


def test_headers_from_the_decoded_body_are_the_events_own() -> None:
    """What the relay sends from outbox columns is what the body says, byte for byte."""
    event = wrapped(correlation_id="corr-1", causation_id="cause-1")
    assert event_headers(*attributes(Envelope.from_bytes(event.body, 10_000))) == event.headers()


def test_size_limit_applies_on_write_and_read() -> None:
    assert len(wrapped().body) > 100
    with pytest.raises(MessageTooLarge, match=r"thing_happened\.v1 for t1 is \d+ bytes; limit 100"):
        wrapped(max_bytes=100)
    with pytest.raises(MessageTooLarge):
        Envelope.from_bytes(b"x" * 200, 100)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{oops", "not JSON"),
        (json.dumps({"type": "unit.thing_happened.v1"}).encode(), "invalid envelope"),
        (None, "tombstone"),
    ],
)
def test_unreadable_messages_are_rejected_with_the_reason(body: bytes | None, message: str) -> None:
    with pytest.raises(EventRejected, match=message):
        Envelope.from_bytes(body, 10_000)


def test_schema_invalid_data_names_the_field() -> None:
    envelope = Envelope(
        type="unit.thing_happened.v1",
        source="unit",
        subject="t1",
        tenant_id="acme",
        data={"thing_id": "t1", "count": "many"},
    )
    with pytest.raises(EventRejected, match="count"):
        envelope.payload()


def test_unknown_type_is_rejected() -> None:
    envelope = Envelope(type="unit.nothing.v9", source="unit", subject="t1", tenant_id="a", data={})
    with pytest.raises(EventRejected, match="not in the catalog"):
        envelope.payload()


def test_a_type_name_is_catalogued_once() -> None:
    assert catalog()["unit.thing_happened.v1"] is ThingHappened
    with pytest.raises(ValueError, match="already catalogued"):

        @catalogued("unit.thing_happened.v1")
        class Impostor(EventData):
            pass


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):  # pydantic: "should have timezone info"
        Envelope(
            type="x", source="s", subject="a", tenant_id="t", data={}, time=datetime(2026, 1, 1)
        )


def test_one_pass_parse_agrees_with_the_two_step_parse() -> None:
    body = wrapped(correlation_id="corr-1").body
    again, data = Envelope.typed_from_bytes(body, 10_000, "unit.thing_happened.v1")
    assert isinstance(again, Envelope)
    assert again.model_dump(mode="json") == Envelope.from_bytes(body, 10_000).model_dump(
        mode="json"
    )
    assert again.payload() == data
    assert data == ThingHappened(thing_id="t1", count=2)


def test_one_pass_parse_rejects_bad_data_naming_the_field() -> None:
    bad = Envelope(
        type="unit.thing_happened.v1",
        source="unit",
        subject="t1",
        tenant_id="a",
        data={"thing_id": "t1", "count": "many"},
    )
    with pytest.raises(EventRejected, match="count"):
        Envelope.typed_from_bytes(bad.model_dump_json().encode(), 10_000, bad.type)
    with pytest.raises(EventRejected, match="not JSON"):
        Envelope.typed_from_bytes(b"{oops", 10_000, bad.type)


def test_a_run_of_envelopes_validates_in_one_call() -> None:
    events = [wrapped(correlation_id=f"c{n}") for n in range(3)]
    bodies = [event.body for event in events]
    ids = [str(event.id) for event in events]
    parsed = Envelope.typed_batch_from_bytes(bodies, ids, 10_000, "unit.thing_happened.v1")
    assert parsed is not None
    assert [attributes(p) for p in parsed] == [tuple(event[:9]) for event in events]
    assert [p.data for p in parsed] == [ThingHappened(thing_id="t1", count=2)] * 3


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda b: [b[0], b[1].replace(b'"count":2', b'"count":"x"'), b[2]], id="bad"),
        pytest.param(lambda b: [b[0] + b"," + b[1], b[2]], id="two-in-one"),
        pytest.param(lambda b: [b[1], b[0], b[2]], id="swapped"),
        pytest.param(lambda b: [b[0], None, b[2]], id="tombstone"),
        pytest.param(lambda b: [b[0], b[1] + b" " * 10_000, b[2]], id="too-large"),
    ],
)
def test_a_run_with_a_bad_or_misplaced_body_is_left_to_one_by_one_parsing(tamper: Any) -> None:
    """None sends the caller to the one-by-one path, which names the bad record. Bodies are
    joined into one JSON array, so a body holding two envelopes (or swapped bodies) must not
    pass for the records next to it: the ``ce_id`` headers have to line up."""
    events = [wrapped() for _ in range(3)]
    bodies = tamper([event.body for event in events])
    ids = [str(event.id) for event in events][: len(bodies)]
    assert Envelope.typed_batch_from_bytes(bodies, ids, 10_000, "unit.thing_happened.v1") is None


def test_an_encoded_event_parses_as_the_envelope_it_describes() -> None:
    event = encode_event(
        ThingHappened(thing_id='tëst "quoted"', count=7),
        source="unit",
        subject="t1",
        tenant_id="acme",
        max_bytes=10_000,
        sequence=4,
        causation_id="cause-1",
    )
    envelope = Envelope.from_bytes(event.body, 10_000)
    assert (
        envelope.id,
        envelope.type,
        envelope.subject,
        envelope.tenant_id,
        envelope.sequence,
    ) == (event.id, "unit.thing_happened.v1", "t1", "acme", 4)
    assert (envelope.time, envelope.source, envelope.causation_id) == (
        event.time,
        "unit",
        "cause-1",
    )
    assert envelope.correlation_id == str(event.id)  # a first event starts its own correlation
    assert envelope.payload() == ThingHappened(thing_id='tëst "quoted"', count=7)
    typed, data = Envelope.typed_from_bytes(event.body, 10_000, "unit.thing_happened.v1")
    assert data.count == 7 and typed.id == event.id
    assert event.headers()["ce_sequence"] == "4"


def test_an_encoded_event_over_the_limit_is_refused() -> None:
    with pytest.raises(MessageTooLarge, match=r"unit\.thing_happened\.v1 for t1"):
        encode_event(
            ThingHappened(thing_id="x" * 2000, count=1),
            source="unit",
            subject="t1",
            tenant_id="acme",
            max_bytes=1024,
        )
    with pytest.raises(ValueError, match="subject"):
        encode_event(
            ThingHappened(thing_id="x", count=1),
            source="u",
            subject="",
            tenant_id="a",
            max_bytes=1024,
        )
