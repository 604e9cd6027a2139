"""Parsing a consumed batch: records to envelopes and typed payloads, before any I/O.

Pure CPU, so the pipeline runs it for batch N+1 while batch N's transaction waits on the
database. What it decides: which records are wanted (the ``ce_type`` header says the type before
the body is read: another consumer's events are not parsed at all), which are rejected and why
(for the dead-letter topic), and it validates runs of one type in one call (half the cost of one
call each). Also the FastStream hooks that hand the platform the raw records.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Container, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from aiokafka import ConsumerRecord

from shared.contracts.base import EventData, model_for
from shared.platform.messaging.envelope import Envelope, EventRejected


class Incoming(NamedTuple):  # a named tuple: built once per consumed event, so cheaply
    record: ConsumerRecord
    envelope: Envelope
    data: EventData


@dataclass(frozen=True)
class ParsedBatch:
    """A batch as parsed, before anything is written: what to apply and what to dead-letter."""

    incoming: list[Incoming]
    rejected: list[tuple[ConsumerRecord, str]]


class BatchParser:
    """Parses records for the event types in ``wanted`` (a live view of the registered ones)."""

    def __init__(self, wanted: Container[str], max_bytes: int) -> None:
        self.wanted = wanted
        self.max_bytes = max_bytes

    def parse_batch(self, records: Sequence[ConsumerRecord]) -> ParsedBatch:
        """Envelopes and payloads, validated; no I/O, so it can overlap the previous batch.

        The ``ce_type`` header says the type before the body is read, so an unwanted event is
        not parsed at all, and consecutive records of one wanted type are validated together
        (``Envelope.typed_batch_from_bytes``); a run with a bad record in it is validated again
        one record at a time, which names the bad one for the dead-letter topic.
        """
        batch = ParsedBatch([], [])
        run: list[ConsumerRecord] = []
        run_ids: list[str] = []
        run_type: str | None = None
        for record in records:
            declared, event_id = type_and_id(record.headers)
            if declared is not None and declared not in self.wanted:
                if model_for(declared) is not None:
                    continue  # another consumer's business; nothing to record
                declared = None  # a type nobody publishes: the body decides what it is
            if declared != run_type or event_id is None:
                self._parse_run(run, run_ids, run_type, batch)
                run, run_ids, run_type = [], [], None
            if declared is None or event_id is None:
                self._parse_one(record, declared, batch)
                continue
            run.append(record)
            run_ids.append(event_id)
            run_type = declared
        self._parse_run(run, run_ids, run_type, batch)
        return batch

    def _parse_run(
        self,
        records: list[ConsumerRecord],
        ids: list[str],
        event_type: str | None,
        batch: ParsedBatch,
    ) -> None:
        if event_type is not None and len(records) > 1:
            envelopes = Envelope.typed_batch_from_bytes(
                [record.value for record in records], ids, self.max_bytes, event_type
            )
            if envelopes is not None:
                batch.incoming.extend(
                    Incoming(record, envelope, cast(EventData, envelope.data))
                    for record, envelope in zip(records, envelopes, strict=True)
                )
                return
        for record in records:
            self._parse_one(record, event_type, batch)

    def _parse_one(self, record: ConsumerRecord, declared: str | None, batch: ParsedBatch) -> None:
        try:
            parsed = self._parse(record, declared)
        except EventRejected as exc:
            batch.rejected.append((record, str(exc)))
            return
        except Exception as exc:  # whatever else a record's bytes can trip: never the batch's
            batch.rejected.append((record, f"unreadable: {exc!r}"))
            return
        if parsed is not None:
            batch.incoming.append(parsed)

    def _parse(self, record: ConsumerRecord, declared: str | None) -> Incoming | None:
        """The record as an envelope with its typed payload, or None if no handler wants it.

        ``declared`` is the record's ``ce_type`` header (the caller has checked that a handler
        wants it): the envelope and payload are then validated in one pass.
        """
        if declared is not None:
            envelope, data = Envelope.typed_from_bytes(record.value, self.max_bytes, declared)
            if envelope.type == declared:
                return Incoming(record, envelope, data)
        envelope = Envelope.from_bytes(record.value, self.max_bytes)  # no header, or it disagreed
        if envelope.type not in self.wanted:
            if model_for(envelope.type) is None:
                # Not a contract any service publishes (a typo, a producer ahead of this
                # release): kept in the DLQ for someone to look at, not silently skipped.
                raise EventRejected(f"event type {envelope.type!r} is not in the catalog")
            return None  # another consumer's business; nothing to record
        return Incoming(record, envelope, envelope.payload())


def type_and_id(
    headers: Sequence[tuple[str, bytes | None]],
) -> tuple[str | None, str | None]:
    """The ``ce_type`` and ``ce_id`` headers, if the producer set them (a plain loop: this runs
    for every record, and a generator per lookup cost more than the rest of the scan)."""
    event_type = event_id = None
    for key, value in headers:
        if value is None:
            continue
        if key == "ce_type":
            event_type = value.decode(errors="replace")
        elif key == "ce_id":
            event_id = value.decode(errors="replace")
    return event_type, event_id


async def parse_batch_lightly(records: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """FastStream's message for a batch, built from its first record only, without headers:
    its batch parser decodes every record's headers into a dict, which the platform does not
    read, and strictly (a header value that is not UTF-8 raised there, and FastStream dropped
    the whole batch unapplied and uncommitted)."""
    message = await original((dataclasses.replace(records[0], headers=()),))
    message.raw_message = records
    return message


async def undecoded(message: Any) -> Any:
    """FastStream's decoder, made a no-op: the platform reads the records itself."""
    return message.raw_message
