"""Who holds which role in a tenant, with their email and preferences: where the policy layer's
``notify`` and ``escalate`` outcomes, and alerts, go."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from shared.contracts.roles import Role


class QuietHours(BaseModel):
    """No email between ``start`` and ``end`` (local; may cross midnight): it waits until then.
    The inbox item is there at once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: time
    end: time
    timezone: str = Field(description="An IANA time zone, e.g. America/Chicago.")

    @field_validator("timezone")
    @classmethod
    def known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name, e.g. America/Chicago)"
            )
        return value

    def ends_after(self, now: datetime) -> datetime | None:
        """When the quiet period around ``now`` ends (UTC), or None if ``now`` is not in one."""
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        at = local.time()
        inside = (
            self.start <= at < self.end
            if self.start <= self.end
            else at >= self.start or at < self.end
        )
        if not inside:
            return None
        end_day = local.date() if at < self.end else local.date() + timedelta(days=1)
        return datetime.combine(end_day, self.end, tzinfo=zone).astimezone(now.tzinfo)


class Person(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    user_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    roles: tuple[Role, ...] = ()
    email_enabled: bool = True
    quiet_hours: QuietHours | None = None
    bounced: bool = Field(
        False,
        description="Read only: the address bounced hard, so it gets no more email (set by the "
        "provider's report, ignored in a PUT).",
    )

    @property
    def emailable(self) -> bool:
        return self.email is not None and self.email_enabled and not self.bounced
