"""The first month of a weekly plan, prorated by the visits left in it (seed 003: "Fill out the
prorated amount for rest of month on weekly tech work order").

How: the month's price times the plan's visits from the start date to the month's end, over the
plan's visits in the whole month (a weekday occurs 4 or 5 times in a month), rounded to the cent.
A plan starting on the first visit day of the month pays the whole month; one starting after the
month's last visit day pays nothing for it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from shared.contracts.money import to_cents


def visit_days(year: int, month: int, weekday: int) -> list[date]:
    """Every ``weekday`` (0 Monday .. 6 Sunday) of the month."""
    first = date(year, month, 1)
    day = first + timedelta(days=(weekday - first.weekday()) % 7)
    days = []
    while day.month == month:
        days.append(day)
        day += timedelta(days=7)
    return days


@dataclass(frozen=True)
class Proration:
    month: date  # its first day
    visits_in_month: int
    visits_left: int
    amount: Decimal

    @property
    def label(self) -> str:
        """As the work order's line shows it."""
        name = f"{calendar.month_name[self.month.month]} {self.month.year}"
        return (
            f"Weekly service, {name} prorated: {self.visits_left} of {self.visits_in_month} visits"
        )


def prorate(monthly_price: Decimal, start: date, weekday: int) -> Proration:
    days = visit_days(start.year, start.month, weekday)
    left = [day for day in days if day >= start]
    amount = to_cents(monthly_price * len(left) / len(days))
    return Proration(start.replace(day=1), len(days), len(left), amount)
