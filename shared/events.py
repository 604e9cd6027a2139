"""The event envelope (CloudEvents attribute names) and the catalog of public event types.

The catalog is the contract between services: every public event type is one pydantic model
registered under its versioned name (``jobs.lead_created.v1``). Changing a published model means a
new version. On the wire an event is the JSON envelope as the Kafka value, its attributes repeated
in ``ce_*`` headers (so tools can route without parsing the body), keyed by the aggregate id.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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


class EventData(BaseModel):
    """Base of every catalogued event payload. ``event_type`` is the versioned public name."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    event_type: ClassVar[str]


_CATALOG: dict[str, type[EventData]] = {}
E = TypeVar("E", bound=type[EventData])


def catalogued(event_type: str) -> Any:
    """Class decorator: register ``cls`` in the catalog under ``event_type`` (unique)."""

    def register(cls: E) -> E:
        if event_type in _CATALOG and _CATALOG[event_type] is not cls:
            raise ValueError(f"event type {event_type!r} is already catalogued")
        cls.event_type = event_type
        _CATALOG[event_type] = cls
        return cls

    return register


def catalog() -> dict[str, type[EventData]]:
    return dict(_CATALOG)


def model_for(event_type: str) -> type[EventData] | None:
    return _CATALOG.get(event_type)


class EventRejected(Exception):
    """A message that can never be processed as it is (unparseable, schema-invalid, too large)."""


class MessageTooLarge(EventRejected):
    pass


class Envelope(BaseModel):
    """One event as it travels: CloudEvents attributes plus the catalogued ``data``."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    source: str
    subject: str = Field(min_length=1, description="Aggregate id; also the Kafka key.")
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    tenant_id: str = Field(min_length=1)
    correlation_id: str | None = None
    causation_id: str | None = None
    sequence: int | None = Field(None, description="Aggregate version.")
    data: dict[str, Any]

    @field_validator("time")
    @classmethod
    def _aware_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("time must be timezone-aware")
        return value.astimezone(UTC)

    @classmethod
    def wrap(
        cls,
        data: EventData,
        *,
        source: str,
        subject: str,
        tenant_id: str,
        sequence: int | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Envelope:
        event_id = uuid.uuid4()
        return cls(
            id=event_id,
            type=data.event_type,
            source=source,
            subject=subject,
            tenant_id=tenant_id,
            sequence=sequence,
            correlation_id=correlation_id or str(event_id),
            causation_id=causation_id,
            data=data.model_dump(mode="json"),
        )

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

    def to_bytes(self, max_bytes: int) -> bytes:
        body = self.model_dump_json().encode()
        if len(body) > max_bytes:
            raise MessageTooLarge(
                f"event {self.type} for {self.subject} is {len(body)} bytes; limit {max_bytes}"
            )
        return body

    def headers(self) -> dict[str, str]:
        attributes = self.model_dump(mode="json", include=set(ENVELOPE_HEADERS))
        return {
            f"{HEADER_PREFIX}{name}": str(value)
            for name, value in attributes.items()
            if value is not None
        }

    @classmethod
    def from_bytes(cls, body: bytes | None, max_bytes: int) -> Envelope:
        if body is None:
            raise EventRejected("empty message (tombstone)")
        if len(body) > max_bytes:
            raise MessageTooLarge(f"message is {len(body)} bytes; limit {max_bytes}")
        try:
            raw = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EventRejected(f"not JSON: {exc}") from exc
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise EventRejected(f"invalid envelope: {_describe(exc)}") from exc


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
    )


def headers_dict(headers: Iterable[tuple[str, bytes]] | None) -> dict[str, str]:
    return {key: value.decode(errors="replace") for key, value in headers or ()}
