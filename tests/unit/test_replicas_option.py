"""``roofline up --replicas SERVICE=N``: what it accepts, and the errors a user sees otherwise."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from shared.cli.app import app
from shared.cli.supervisor import parse_replicas


def test_each_service_named_gets_its_count() -> None:
    assert parse_replicas(["jobs=3", "tickets=2"]) == {"jobs": 3, "tickets": 2}
    assert parse_replicas([]) == {}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("jobs", "SERVICE=N"),
        ("jobs=two", "SERVICE=N"),
        ("roofing=2", "unknown service 'roofing'"),
        ("jobs=0", "N must be 1 to 8"),
        ("jobs=9", "N must be 1 to 8"),
    ],
)
def test_a_bad_value_is_named(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_replicas([value])


def test_the_command_refuses_it_before_starting_anything() -> None:
    result = CliRunner().invoke(app, ["up", "--replicas", "roofing=2"])
    assert result.exit_code == 2
    assert "unknown service 'roofing'" in result.output
