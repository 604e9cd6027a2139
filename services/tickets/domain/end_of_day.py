"""The end-of-day reassignment (seed 003): when each tenant's day ends, and the record of each
day's run (there is one per tenant and day, so the move happens once)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo, available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator


class EndOfDay(BaseModel):
    """The tenant's local time at which the day's undone follow-ups move."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str = Field(description="An IANA time zone, e.g. America/Chicago.")
    at: time = Field(description="Local time of day, e.g. 17:30.")

    @field_validator("timezone")
    @classmethod
    def known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name, e.g. America/Chicago)"
            )
        return value

    def local_now(self, now: datetime) -> datetime:
        return now.astimezone(ZoneInfo(self.timezone))

    def has_passed(self, now: datetime) -> bool:
        """Whether today's end of day (local) has come."""
        return self.local_now(now).time() >= self.at


class EndOfDayRun(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    day: date
    by: str
    ran_at: datetime
    moved: int
