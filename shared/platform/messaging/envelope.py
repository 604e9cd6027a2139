"""The event envelope (CloudEvents attribute names) around a catalogued event
(``shared.contracts``). On the wire an event is the JSON envelope as the Kafka value, its
attributes repeated in ``ce_*`` headers (so tools can route without parsing the body), keyed by
the aggregate id.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    create_model,
)
from pydantic_core import to_json
from uuid_utils.compat import uuid7

from shared.contracts.base import EventData, model_for

HEADER_PREFIX = "ce_"
ENVELOPE_HEADERS = (
    "id",
    "type",
    "source",
    "subject",
    "time",
    "tenant_id",
    "correlation_id",
    "causation_id",
    "sequence",
)


def new_event_id() -> uuid.UUID:
    """Time-ordered UUIDv7: unique like uuid4, and inbox/outbox index inserts stay local."""
    return uuid7()


class EventRejected(Exception):
    """A message that can never be processed as it is (unparseable, schema-invalid, too large)."""


class MessageTooLarge(EventRejected):
    pass


class _EnvelopeFields(BaseModel):
    """The CloudEvents attributes every envelope carries."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID = Field(default_factory=new_event_id)
    type: str
    source: str
    subject: str = Field(min_length=1, description="Aggregate id; also the Kafka key.")
    time: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    tenant_id: str = Field(min_length=1)
    correlation_id: str | None = None
    causation_id: str | None = None
    sequence: int | None = Field(None, description="Aggregate version.")


class OutgoingEvent(NamedTuple):
    """An event recorded for publication: its envelope attributes and the envelope as bytes.

    The one way onto the wire, for services, tests and benchmarks alike: ``encode_event`` builds
    it, ``headers()`` (``event_headers``, which the relay also applies to outbox columns) gives
    its ``ce_*`` headers; ``Envelope.from_bytes`` and its typed variants are the way back.

    Built without a pydantic ``Envelope``: one is recorded for every command
    and every consumed event that causes another, and model construction was a tenth of the
    consumer's time. The bytes parse as an ``Envelope`` (tested). A named tuple, not a frozen
    dataclass: a frozen dataclass sets each field through ``object.__setattr__``, which cost a
    third of the encoding."""

    id: uuid.UUID
    type: str
    source: str
    subject: str
    time: datetime
    tenant_id: str
    correlation_id: str | None
    causation_id: str | None
    sequence: int | None
    body: bytes

    def headers(self) -> dict[str, str]:
        """The envelope attributes as ``ce_*`` Kafka headers (absent ones are left out)."""
        return event_headers(
            self.id,
            self.type,
            self.source,
            self.subject,
            self.time,
            self.tenant_id,
            self.correlation_id,
            self.causation_id,
            self.sequence,
        )


def event_headers(
    event_id: uuid.UUID,
    event_type: str,
    source: str,
    subject: str,
    time: datetime,
    tenant_id: str,
    correlation_id: str | None,
    causation_id: str | None,
    sequence: int | None,
) -> dict[str, str]:
    """The ``ce_*`` Kafka headers of an event, from its attributes (absent ones are left out):
    the one place they are spelled, for the relay (from outbox columns) and for tests."""
    headers = {
        "ce_id": str(event_id),
        "ce_type": event_type,
        "ce_source": source,
        "ce_subject": subject,
        "ce_time": time.isoformat().replace("+00:00", "Z"),
        "ce_tenant_id": tenant_id,
    }
    if correlation_id is not None:
        headers["ce_correlation_id"] = correlation_id
    if causation_id is not None:
        headers["ce_causation_id"] = causation_id
    if sequence is not None:
        headers["ce_sequence"] = str(sequence)
    return headers


class _NotInOutboxColumns(BaseModel):
    """The attributes a stored envelope has beyond the outbox's columns (``data`` is skipped)."""

    source: str
    time: AwareDatetime
    correlation_id: str | None = None
    causation_id: str | None = None
    sequence: int | None = None


def stored_event_headers(
    event_id: uuid.UUID, event_type: str, subject: str, tenant_id: str, body: bytes
) -> dict[str, str]:
    """The ``ce_*`` headers of an outbox row: id, type, subject (the key) and tenant from its
    columns, the rest read from the envelope it stores without validating its ``data``.

    Measured against five more outbox columns (source, time, correlation, causation,
    sequence): reading these from the body costs the relay about 2 µs an event more, the columns
    would cost every command and every consumed event about 2 µs an event more on insert, in
    the transaction (``bench/`` notes in the README); so the relay reads them."""
    rest = _NotInOutboxColumns.model_validate_json(body)
    return event_headers(
        event_id,
        event_type,
        rest.source,
        subject,
        rest.time,
        tenant_id,
        rest.correlation_id,
        rest.causation_id,
        rest.sequence,
    )


def encode_event(
    data: EventData,
    *,
    source: str,
    subject: str,
    tenant_id: str,
    max_bytes: int,
    sequence: int | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> OutgoingEvent:
    """The envelope for ``data`` as JSON bytes. Raises ValueError without a subject or tenant,
    MessageTooLarge over ``max_bytes`` (so the command fails, not the relay later)."""
    if not subject or not tenant_id:
        raise ValueError("an event needs a subject (aggregate id) and a tenant")
    event_id = new_event_id()
    now = datetime.now(UTC)
    correlation_id = correlation_id or str(event_id)
    # One serializer call for envelope and payload (pydantic-core writes UUIDs, UTC times as
    # "...Z" and the payload model itself): a third of what json + to_json per part cost.
    body = to_json(
        {
            "id": event_id,
            "type": data.event_type,
            "source": source,
            "subject": subject,
            "time": now,
            "tenant_id": tenant_id,
            "correlation_id": correlation_id,
            "causation_id": causation_id,
            "sequence": sequence,
            "data": data,
        }
    )
    if len(body) > max_bytes:
        raise MessageTooLarge(
            f"event {data.event_type} for {subject} is {len(body)} bytes; limit {max_bytes}"
        )
    return OutgoingEvent(
        event_id,
        data.event_type,
        source,
        subject,
        now,
        tenant_id,
        correlation_id,
        causation_id,
        sequence,
        body,
    )


class Envelope(_EnvelopeFields):
    """One event as it is read off the wire: CloudEvents attributes plus the catalogued
    ``data``. Only the decoding side: events are written with ``encode_event``."""

    data: dict[str, Any]

    def payload(self) -> EventData:
        """The typed payload, validated against the catalog. Raises EventRejected."""
        model = model_for(self.type)
        if model is None:
            raise EventRejected(f"event type {self.type!r} is not in the catalog")
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            raise EventRejected(f"{self.type}: {_describe(exc)}") from exc

    # -- wire format -------------------------------------------------------------------------

    @classmethod
    def typed_from_bytes(
        cls, body: bytes | None, max_bytes: int, event_type: str
    ) -> tuple[Envelope, EventData]:
        """Parse and validate envelope and payload in one pass, for a known ``event_type``.
        Raises EventRejected like ``from_bytes`` + ``payload``."""
        if body is None:
            raise EventRejected("empty message (tombstone)")
        if len(body) > max_bytes:
            raise MessageTooLarge(f"message is {len(body)} bytes; limit {max_bytes}")
        typed = _typed_envelope(event_type)
        try:
            parsed = typed.model_validate_json(body)
        except ValidationError as exc:
            if any(error["type"] == "json_invalid" for error in exc.errors()):
                raise EventRejected(f"not JSON: {_describe(exc)}") from exc
            raise EventRejected(f"invalid envelope: {_describe(exc)}") from exc
        # The typed envelope is an Envelope whose ``data`` is the payload model: no copy into a
        # plain one (that copy cost as much as the parsing, per consumed event).
        return parsed, cast(EventData, parsed.data)

    @classmethod
    def typed_batch_from_bytes(
        cls, bodies: Sequence[bytes | None], ids: Sequence[str], max_bytes: int, event_type: str
    ) -> list[Envelope] | None:
        """Validate many envelopes of one ``event_type`` in one call (half the cost of one call
        each), or None: then some body is bad, and the caller validates them one by one to find
        it. ``ids`` are the ``ce_id`` headers: the JSON array is built by joining the bodies, so
        each parsed envelope must be the one its record carried — a body that is not exactly one
        JSON object shifts the others, and then the count or the ids do not line up.

        Not covered: bodies crafted to be invalid alone but valid joined (one opening a string
        that the next closes), with headers to match. Only a producer that can already publish
        any valid event can do that, and what is applied is still validated envelopes."""
        if any(body is None or len(body) > max_bytes for body in bodies):
            return None
        try:
            envelopes = _typed_envelope_list(event_type).validate_json(
                b"[" + b",".join(bodies) + b"]"  # type: ignore[arg-type]
            )
        except ValidationError:
            return None
        try:
            # Compared as integers: formatting each UUID as text cost more than this whole check.
            expected = [int(event_id.replace("-", ""), 16) for event_id in ids]
        except ValueError:
            return None  # a header that is no UUID: let the one-by-one path judge the bodies
        if (
            len(envelopes) != len(bodies)
            or len(ids) != len(bodies)
            or any(
                envelope.type != event_type or envelope.id.int != event_id
                for envelope, event_id in zip(envelopes, expected, strict=False)
            )
        ):
            return None
        return envelopes

    @classmethod
    def from_bytes(cls, body: bytes | None, max_bytes: int) -> Envelope:
        if body is None:
            raise EventRejected("empty message (tombstone)")
        if len(body) > max_bytes:
            raise MessageTooLarge(f"message is {len(body)} bytes; limit {max_bytes}")
        try:
            return cls.model_validate_json(body)
        except ValidationError as exc:
            if any(error["type"] == "json_invalid" for error in exc.errors()):
                raise EventRejected(f"not JSON: {_describe(exc)}") from exc
            raise EventRejected(f"invalid envelope: {_describe(exc)}") from exc


@functools.cache
def _typed_envelope(event_type: str) -> type[Envelope]:
    """An Envelope whose ``data`` is the catalogued payload model of ``event_type``."""
    model = model_for(event_type)
    if model is None:
        raise EventRejected(f"event type {event_type!r} is not in the catalog")
    return create_model(f"Envelope_{model.__name__}", __base__=Envelope, data=(model, ...))


@functools.cache
def _typed_envelope_list(event_type: str) -> TypeAdapter[list[Envelope]]:
    # The element type is built at run time, which a static checker cannot follow.
    return TypeAdapter(list[_typed_envelope(event_type)])  # type: ignore[misc,arg-type]


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
    )
