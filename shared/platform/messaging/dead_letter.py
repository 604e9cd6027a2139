"""Dead letters that cannot fail on the record's content.

Whatever a consumed record is (any size, any headers, any bytes, no key, no value), the
dead-letter topic gets something for it: the record itself with its headers and the ``dlq_*``
headers, or, when that cannot fit under the producer's size limit or the broker refuses it as a
record, a small JSON *stub* naming its coordinates, its size, the reason and its first bytes. Only
the broker being unreachable stops a dead letter, and that is ``DeadLetterUnavailable``: a
transient failure of the broker (retried, then the batch handed back), never of the record.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from aiokafka.errors import (
    CorruptRecordException,
    InvalidMessageError,
    InvalidTimestampError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)

from shared.platform.messaging.broker import dlq_topic

# The broker refused the message for what it is (its size, its bytes), not for being down.
RECORD_REFUSED = (
    CorruptRecordException,
    InvalidMessageError,
    InvalidTimestampError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
# What a dead letter says about the error, and how much of the original a stub keeps.
MAX_ERROR_CHARS = 2000
STUB_HEAD_BYTES = 4096
STUB_KEY_BYTES = 1024
# Per-header and per-record overhead in Kafka's record format, rounded up: the size estimate
# must never be below what the producer counts.
_HEADER_OVERHEAD = 10
_RECORD_OVERHEAD = 256

# publish(topic, key, value, headers): waits for the broker's ack.
Publish = Callable[[str, bytes | None, bytes | None, dict[str, str]], Awaitable[Any]]

_COORDINATES = uuid.UUID("6f1d2c3e-8a4b-5c6d-9e7f-0a1b2c3d4e5f")


class DeadLetterUnavailable(ConnectionError):
    """The dead-letter topic could not be written (broker down or refusing): transient."""


def record_id(record: ConsumerRecord) -> uuid.UUID:
    """A stable id for a record that has no readable event id, from where it sits in Kafka:
    lets the inbox remember that it was dead-lettered, so a redelivery does not send it again."""
    where = f"{record.topic}\x00{record.partition}\x00{record.offset}\x00{record.timestamp}"
    return uuid.uuid5(_COORDINATES, where)


def readable_headers(headers: Sequence[tuple[str, bytes | None]] | None) -> dict[str, str]:
    """The record's headers as text: a null value becomes empty, bytes that are not UTF-8 are
    replaced (the stub keeps nothing of them; the record's value is kept byte for byte)."""
    readable: dict[str, str] = {}
    for key, value in headers or ():
        readable[str(key)] = "" if value is None else value.decode(errors="replace")
    return readable


class DeadLetters:
    """Sends records to ``<topic>.dlq`` with the reason and where they came from."""

    def __init__(self, publish: Publish, *, consumer_group: str, max_bytes: int) -> None:
        self._publish = publish
        self.consumer_group = consumer_group
        self.max_bytes = max_bytes

    async def send(
        self,
        record: ConsumerRecord,
        reason: str,
        error: str,
        *,
        attempts: int,
        stub_why: str | None = None,
    ) -> bool:
        """Dead-letter ``record``; True if the record itself went, False if a stub went for it
        (always, with ``stub_why``). Raises ``DeadLetterUnavailable`` only when the broker cannot
        take even a stub."""
        topic = dlq_topic(record.topic)
        about = self._about(record, reason, error, attempts)
        headers = {**readable_headers(record.headers), **about}
        if stub_why is not None:
            about["dlq_stub_why"] = stub_why
        elif _size(record.key, record.value, headers) <= self.max_bytes:
            try:
                await self._publish(topic, record.key, record.value, headers)
                return True
            except RECORD_REFUSED as exc:
                about["dlq_stub_why"] = f"the broker refused the record: {exc!r}"[:MAX_ERROR_CHARS]
            except Exception as exc:
                raise DeadLetterUnavailable(f"cannot write {topic}: {exc!r}") from exc
        else:
            about["dlq_stub_why"] = (
                f"the record ({_size(record.key, record.value, headers)} bytes with its headers) "
                f"is over the {self.max_bytes}-byte message limit"
            )
        try:
            await self._publish(topic, _stub_key(record.key), stub(record, about), about)
        except Exception as exc:
            raise DeadLetterUnavailable(f"cannot write a stub to {topic}: {exc!r}") from exc
        return False

    def _about(
        self, record: ConsumerRecord, reason: str, error: str, attempts: int
    ) -> dict[str, str]:
        return {
            "dlq_reason": reason,
            "dlq_error": error[:MAX_ERROR_CHARS],
            "dlq_original_topic": record.topic,
            "dlq_original_partition": str(record.partition),
            "dlq_original_offset": str(record.offset),
            "dlq_consumer_group": self.consumer_group,
            "dlq_attempts": str(attempts),
            "dlq_failed_at": datetime.now(UTC).isoformat(),
        }


def stub(record: ConsumerRecord, about: dict[str, str]) -> bytes:
    """What stands in the DLQ for a record that cannot go there itself: JSON, a few KiB."""
    value = record.value or b""
    headers = record.headers or ()
    return json.dumps(
        {
            "stub": True,
            **about,
            "timestamp": record.timestamp,
            "key_size": len(record.key or b""),
            "value_size": None if record.value is None else len(value),
            "value_head_base64": base64.b64encode(value[:STUB_HEAD_BYTES]).decode(),
            "header_count": len(headers),
            "header_names": sorted({str(key) for key, _ in headers})[:50],
        }
    ).encode()


def _stub_key(key: bytes | None) -> bytes | None:
    return key[:STUB_KEY_BYTES] if key is not None else None


def _size(key: bytes | None, value: bytes | None, headers: dict[str, str]) -> int:
    size = _RECORD_OVERHEAD + len(key or b"") + len(value or b"")
    for name, text in headers.items():
        size += _HEADER_OVERHEAD + len(name.encode()) + len(text.encode())
    return size
