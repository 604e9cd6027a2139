from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.cli.timeparse import parse_since

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", datetime(2026, 11, 22, 10, 0, tzinfo=UTC)),
        ("30m", datetime(2026, 11, 22, 11, 30, tzinfo=UTC)),
        ("7d", datetime(2026, 11, 15, 12, 0, tzinfo=UTC)),
        ("2026-11-20T08:00:00Z", datetime(2026, 11, 20, 8, 0, tzinfo=UTC)),
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
    ],
)
def test_parses_times_and_durations(text: str, expected: datetime) -> None:
    assert parse_since(text, now=NOW) == expected


def test_nonsense_says_what_it_accepts() -> None:
    with pytest.raises(ValueError, match="ISO time"):
        parse_since("yesterday-ish", now=NOW)
