"""The technicians' calendar: per day and technician, the visits booked against their capacity,
and what is free (the gaps the office fills)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass
class CalendarDay:
    day: date
    technician_id: str
    daily_visits: int | None  # None: no capacity set, no limit
    ticket_ids: list[str] = field(default_factory=list)

    @property
    def free(self) -> int | None:
        return None if self.daily_visits is None else self.daily_visits - len(self.ticket_ids)


def calendar_days(
    start: date,
    end: date,
    capacities: dict[str, int],
    bookings: Sequence[tuple[date, str, str]],
    technician: str | None = None,
) -> list[CalendarDay]:
    """Each day from ``start`` to ``end`` (by day, then technician) for ``technician``, or for
    every technician with a capacity or a booking (day, technician, ticket id) in the range."""
    people = (
        [technician]
        if technician is not None
        else sorted({*capacities, *(person for _, person, _ in bookings)})
    )
    days = {
        (start + timedelta(days=n), person): CalendarDay(
            start + timedelta(days=n), person, capacities.get(person)
        )
        for n in range((end - start).days + 1)
        for person in people
    }
    for day, person, ticket_id in bookings:
        days[(day, person)].ticket_ids.append(ticket_id)
    return list(days.values())
