"""The shipped policy sets: valid, their examples pass, and the JSON Schema matches the format."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shared.cli.app import app
from shared.policy.format import json_schema
from shared.policy.loader import load_policy_dir

POLICIES = Path(__file__).resolve().parents[3] / "policies"
SHIPPED = {
    "crew_assignment",
    "special_trades",
    "production_handoff",
    "production_schedule",
    "milestone_moves",
    "completion",
    "line_items",
    "collections",
    "depreciation",
    "depreciation_deadlines",
    "follow_ups",
    "technician_capacity",
    "service_start",
    "end_of_day",
    "surveys",
    "concessions",
    "returned_checks",
}


def test_every_shipped_policy_set_is_valid() -> None:
    loaded = load_policy_dir(POLICIES)
    try:
        assert [str(problem) for problem in loaded.problems] == []
        assert {s.id for s in loaded.sets.values()} == SHIPPED
    finally:
        for policy_set in loaded.sets.values():
            policy_set.close()


def test_policy_test_command_passes_on_the_shipped_files() -> None:
    result = CliRunner().invoke(app, ["policy", "test", str(POLICIES)])
    assert result.exit_code == 0, result.output
    assert " 0 failed, 0 file(s) invalid" in result.output
    assert "pass contract-signed" in result.output


def test_policy_lint_command_passes_on_the_shipped_files() -> None:
    result = CliRunner().invoke(app, ["policy", "lint", str(POLICIES)])
    assert result.exit_code == 0, result.output
    assert f"{len(SHIPPED)} valid policy set(s)" in result.output


def test_shipped_json_schema_is_the_generated_one() -> None:
    shipped = json.loads((POLICIES / "schema.json").read_text())
    assert shipped == json_schema(), "run: roofline policy schema --output policies/schema.json"
