"""Dead letters cannot fail on a record's content; only the broker being down stops them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError

from shared.platform.messaging.dead_letter import DeadLetters, DeadLetterUnavailable, record_id
from shared.platform.storage.db import is_transient

LIMIT = 10_000


def record(
    value: bytes | None = b"{}",
    *,
    key: bytes | None = b"k",
    headers: tuple[tuple[str, bytes | None], ...] = (),
    offset: int = 7,
) -> ConsumerRecord:
    return ConsumerRecord(
        "roofline.jobs.events", 2, offset, 1_700_000_000_000, 0, key, value, None, 0, 0, headers
    )


class Broker:
    """Takes what is published; refuses the first ``refuse`` sends with ``error``."""

    def __init__(self, error: Exception | None = None, refuse: int = 0) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, dict[str, str]]] = []
        self.error, self.refuse = error, refuse

    async def publish(
        self, topic: str, key: bytes | None, value: bytes | None, headers: dict[str, str]
    ) -> Any:
        if self.refuse:
            self.refuse -= 1
            assert self.error is not None
            raise self.error
        self.sent.append((topic, key, value, headers))


def dead_letters(broker: Broker) -> DeadLetters:
    return DeadLetters(broker.publish, consumer_group="roofline.billing", max_bytes=LIMIT)


async def test_the_record_goes_as_it_is_with_null_and_non_utf8_headers_readable() -> None:
    broker = Broker()
    headers = (("ce_type", None), ("ce_id", b"\xc3\x28"), ("trace", b"abc"))
    whole = await dead_letters(broker).send(
        record(b"\x00\xffbytes", headers=headers), "rejected", "not JSON", attempts=1
    )
    assert whole is True
    [(topic, key, value, sent)] = broker.sent
    assert (topic, key, value) == ("roofline.jobs.events.dlq", b"k", b"\x00\xffbytes")
    assert sent["ce_type"] == "" and sent["trace"] == "abc"
    assert sent["ce_id"].startswith("\ufffd")
    assert sent["dlq_reason"] == "rejected" and sent["dlq_error"] == "not JSON"
    assert (sent["dlq_original_partition"], sent["dlq_original_offset"]) == ("2", "7")
    assert sent["dlq_consumer_group"] == "roofline.billing"


async def test_a_record_over_the_limit_goes_as_a_stub_with_its_coordinates_and_first_bytes() -> (
    None
):
    broker = Broker()
    big = b"A" * (LIMIT * 3)
    whole = await dead_letters(broker).send(
        record(big, key=b"K" * 5000, headers=(("h", b"v"),)), "rejected", "too large", attempts=1
    )
    assert whole is False
    [(_, key, value, headers)] = broker.sent
    assert value is not None and len(value) < LIMIT
    body = json.loads(value)
    assert body["stub"] is True and body["value_size"] == LIMIT * 3
    assert body["dlq_original_offset"] == "7" and body["dlq_reason"] == "rejected"
    assert body["header_names"] == ["h"]
    assert body["value_head_base64"]
    assert key == b"K" * 1024
    assert "over the" in headers["dlq_stub_why"]


async def test_headers_too_large_together_make_a_stub_too() -> None:
    broker = Broker()
    headers = tuple((f"h{i}", b"x" * 100) for i in range(200))
    assert (
        await dead_letters(broker).send(record(headers=headers), "rejected", "e", attempts=1)
        is False
    )


async def test_a_record_the_broker_refuses_as_too_large_goes_as_a_stub() -> None:
    broker = Broker(MessageSizeTooLargeError(), refuse=1)
    whole = await dead_letters(broker).send(record(), "handler_failed", "boom", attempts=5)
    assert whole is False
    [(_, _, value, headers)] = broker.sent
    assert json.loads(value or b"")["dlq_attempts"] == "5"
    assert "refused" in headers["dlq_stub_why"]


@pytest.mark.parametrize("refuse", [1, 2])
async def test_an_unreachable_broker_is_a_transient_failure_not_the_records(refuse: int) -> None:
    broker = Broker(KafkaConnectionError("down"), refuse=refuse)
    with pytest.raises(DeadLetterUnavailable) as raised:
        await dead_letters(broker).send(record(b"x" * (LIMIT * 2)), "rejected", "e", attempts=1)
    assert is_transient(raised.value)


def test_a_tombstone_and_a_keyless_record_have_stable_distinct_ids() -> None:
    assert record_id(record(None, key=None)) == record_id(record(None, key=None))
    assert record_id(record(offset=1)) != record_id(record(offset=2))
