"""The first month of a weekly plan, prorated by the visits left in it: month edges, leap years,
mid-week starts, and rounding to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.tickets.domain.proration import prorate, visit_days

MONDAY, WEDNESDAY, FRIDAY, SUNDAY = 0, 2, 4, 6


@pytest.mark.parametrize(
    ("start", "weekday", "left", "of", "amount"),
    [
        # December 2026 has five Wednesdays (2, 9, 16, 23, 30).
        (date(2026, 12, 2), WEDNESDAY, 5, 5, "120.00"),  # the first visit day: the whole month
        (date(2026, 12, 1), WEDNESDAY, 5, 5, "120.00"),  # before it, the same
        (date(2026, 12, 3), WEDNESDAY, 4, 5, "96.00"),  # mid-week, the day after a visit day
        (date(2026, 12, 30), WEDNESDAY, 1, 5, "24.00"),  # the last visit day
        (date(2026, 12, 31), WEDNESDAY, 0, 5, "0.00"),  # past the last: nothing this month
        # February 2028 (leap year) has five Tuesdays; February 2027 has four.
        (date(2028, 2, 29), 1, 1, 5, "24.00"),
        (date(2027, 2, 28), SUNDAY, 1, 4, "30.00"),
        (date(2027, 2, 1), MONDAY, 4, 4, "120.00"),
        # A third of the price does not divide: rounded half up to the cent.
        (date(2026, 11, 13), FRIDAY, 3, 4, "90.00"),
    ],
)
def test_the_first_month_by_visits_left(
    start: date, weekday: int, left: int, of: int, amount: str
) -> None:
    prorated = prorate(Decimal("120.00"), start, weekday)
    assert (prorated.visits_left, prorated.visits_in_month, prorated.amount) == (
        left,
        of,
        Decimal(amount),
    )


def test_rounding_is_to_the_cent_half_up() -> None:
    # October 2026 has four Wednesdays (7, 14, 21, 28).
    # 2 of 4 left: 49.995
    assert prorate(Decimal("99.99"), date(2026, 10, 15), WEDNESDAY).amount == Decimal("50.00")
    assert prorate(Decimal("99.99"), date(2026, 10, 22), WEDNESDAY).amount == Decimal("25.00")
    assert prorate(Decimal("99.99"), date(2026, 10, 8), WEDNESDAY).amount == Decimal("74.99")


def test_the_label_says_how() -> None:
    label = prorate(Decimal("120.00"), date(2026, 12, 3), WEDNESDAY).label
    assert label == "Weekly service, December 2026 prorated: 4 of 5 visits"


def test_visit_days_of_a_month() -> None:
    assert visit_days(2026, 12, WEDNESDAY) == [date(2026, 12, d) for d in (2, 9, 16, 23, 30)]
    assert len(visit_days(2028, 2, 1)) == 5  # 29 February 2028 is a Tuesday
