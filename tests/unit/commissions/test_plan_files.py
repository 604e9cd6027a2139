"""The plan file validator (file:line problems), the book of versions and assignments, the shipped
plans and their schema, and the plan owner's command."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.commissions.domain.figures import JobFigures, PlanInvalid, PlanNotFound
from services.commissions.plans import (
    PlanBook,
    PlanFileInvalid,
    evaluate,
    load_plan_file,
    load_plans,
    read_plans,
)
from services.commissions.plans.cli import app
from services.commissions.plans.format import json_schema
from services.commissions.plans.loader import content_hash
from tests.unit.commissions.plans import a_plan, plan_text, write_plan

PLANS = Path(__file__).resolve().parents[3] / "commission_plans"

PERCENT = """\
assigned_to: {everyone_else: true}
computation:
  percent_of_contract:
    rate: 6
"""


def problems_of(path: Path) -> list[str]:
    with pytest.raises(PlanFileInvalid) as caught:
        load_plan_file(path)
    assert isinstance(caught.value, PlanInvalid)
    return [str(problem) for problem in caught.value.problems]


def test_a_loaded_plan_carries_the_hash_of_its_bytes(tmp_path: Path) -> None:
    plan = a_plan(tmp_path, PERCENT)
    assert plan.hash == content_hash((tmp_path / "plan.yaml").read_bytes())
    assert len(plan.hash) == 16
    assert (plan.id, plan.version, plan.tenant) == ("standard", 1, "acme-roofing")


def test_numbers_are_read_from_their_text_never_through_a_float(tmp_path: Path) -> None:
    plan = a_plan(tmp_path, PERCENT.replace("rate: 6", "rate: 0.1"))
    assert plan.spec.computation.percent_of_contract is not None
    assert plan.spec.computation.percent_of_contract.rate == Decimal("0.1")
    result = evaluate(plan, JobFigures(job_id="j", contract_price=Decimal("1000.10")), Decimal(0))
    assert result.amount == Decimal("1.00")  # 1.0001, exactly


def test_a_wrong_type_is_named_with_its_line(tmp_path: Path) -> None:
    path = write_plan(tmp_path / "plan.yaml", PERCENT.replace("rate: 6", "rate: six"))
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:10: plan 'standard': computation.percent_of_contract.rate")
    assert "decimal" in problem


def test_an_unknown_key_is_named_with_its_line(tmp_path: Path) -> None:
    path = write_plan(tmp_path / "plan.yaml", PERCENT + "advanse: {amount: 100}\n")
    assert problems_of(path) == [
        f"{path}:11: plan 'standard': 'advanse' is not part of the plan format (check the spelling)"
    ]


def test_tiers_go_up(tmp_path: Path) -> None:
    body = PERCENT + "    tiers:\n      - {from: 50000, rate: 8}\n      - {from: 20000, rate: 7}\n"
    path = write_plan(tmp_path / "plan.yaml", body)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:9: plan 'standard': ")
    assert "tiers go up: 'from' 20000 comes after 50000" in problem


def test_money_to_the_cent_and_rates_to_four_decimals(tmp_path: Path) -> None:
    body = PERCENT.replace("rate: 6", "rate: 6.12345") + "advance: {amount: 10.005}\n"
    path = write_plan(tmp_path / "plan.yaml", body)
    assert problems_of(path) == [
        f"{path}:10: plan 'standard': computation.percent_of_contract.rate: a rate is a percent "
        "with at most 4 decimals",
        f"{path}:11: plan 'standard': advance.amount: an amount is to the cent "
        "(at most 2 decimals)",
    ]


def test_a_computation_is_exactly_one_kind(tmp_path: Path) -> None:
    body = PERCENT + "  flat_fee: {amount: 100}\n"
    [problem] = problems_of(write_plan(tmp_path / "plan.yaml", body))
    assert ":8: plan 'standard': computation: a computation is exactly one of" in problem
    assert "found percent_of_contract, flat_fee" in problem


def test_a_failing_example_is_named_with_its_line(tmp_path: Path) -> None:
    examples = """\
examples:
  - name: right
    job: {contract_price: 1000}
    expect: {amount: 60}
  - name: wrong
    job: {contract_price: 1000}
    expect: {amount: 70, advance: 5}
"""
    path = write_plan(tmp_path / "plan.yaml", PERCENT, examples=examples)
    [problem] = problems_of(path)
    assert problem == (
        f"{path}:15: plan 'standard': example 'wrong' fails: amount 70.00 expected, got 60.00; "
        "advance 5.00 expected, got 0.00 (Contract 1,000.00, no change orders / "
        "6% of 1,000.00 = 60.00)"
    )


def test_the_file_is_in_its_tenants_folder(tmp_path: Path) -> None:
    write_plan(tmp_path / "other-roofing" / "standard.yaml", PERCENT)
    [problem] = read_plans(tmp_path).problems
    assert "plan is for tenant 'acme-roofing' but its file is in the folder of 'other-roofing'" in (
        str(problem)
    )
    assert problem.line == 5


def test_yaml_errors_have_a_line(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(plan_text(PERCENT) + "  - name: [unclosed\n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:") and "not valid YAML" in problem


# -- the book --------------------------------------------------------------------------------------


def book(tmp_path: Path) -> PlanBook:
    tenant = tmp_path / "acme-roofing"
    write_plan(tenant / "standard-v1.yaml", PERCENT)
    write_plan(
        tenant / "standard-v2.yaml",
        PERCENT.replace("rate: 6", "rate: 7"),
        version=2,
        effective_from="2026-07-01",
    )
    write_plan(
        tenant / "insurance.yaml",
        "assigned_to: {teams: [insurance]}\ncomputation:\n  percent_of_gross_profit: {rate: 30}\n",
        id="insurance",
    )
    write_plan(
        tenant / "service.yaml",
        "assigned_to: {teams: [service], salesmen: [sam]}\n"
        "computation:\n  flat_fee: {amount: 150}\n",
        id="service",
    )
    return load_plans(tmp_path)


def test_the_plan_of_a_salesman_then_his_team_then_the_default(tmp_path: Path) -> None:
    plans = book(tmp_path)
    on = date(2026, 3, 1)
    assert plans.plan_for("acme-roofing", "sam", ["insurance"], on).id == "service"
    assert plans.plan_for("acme-roofing", "ann", ["insurance", "service"], on).id == "insurance"
    assert plans.plan_for("acme-roofing", "ann", ["service", "insurance"], on).id == "service"
    assert plans.plan_for("acme-roofing", "bob", ["roofing"], on).id == "standard"


def test_the_version_in_force_on_the_day(tmp_path: Path) -> None:
    plans = book(tmp_path)
    assert plans.plan_for("acme-roofing", "bob", [], date(2026, 6, 30)).version == 1
    assert plans.plan_for("acme-roofing", "bob", [], date(2026, 7, 1)).version == 2
    assert [p.version for p in plans.versions("acme-roofing", "standard")] == [1, 2]
    assert plans.versions("acme-roofing", "nope") == []
    with pytest.raises(PlanNotFound, match="before-everything"):
        plans.plan_for("acme-roofing", "before-everything", [], date(2025, 12, 31))
    with pytest.raises(PlanNotFound):
        plans.plan_for("another-tenant", "bob", [], date(2026, 3, 1))


def test_a_version_twice_or_starting_earlier_is_refused(tmp_path: Path) -> None:
    tenant = tmp_path / "acme-roofing"
    write_plan(tenant / "a.yaml", PERCENT, effective_from="2026-07-01")
    write_plan(tenant / "b.yaml", PERCENT)
    [problem] = read_plans(tmp_path).problems
    assert str(problem).startswith(f"{tenant / 'b.yaml'}:2: plan 'standard': version 1 is also")
    (tenant / "b.yaml").write_text(plan_text(PERCENT, version=2))
    [problem] = read_plans(tmp_path).problems
    assert "version 2 starts 2026-01-01, before version 1 (2026-07-01)" in str(problem)
    assert problem.line == 6
    with pytest.raises(PlanFileInvalid):
        load_plans(tmp_path)


def test_one_plan_at_a_time_for_a_salesman(tmp_path: Path) -> None:
    tenant = tmp_path / "acme-roofing"
    write_plan(
        tenant / "a.yaml",
        "assigned_to: {salesmen: [ann, bob]}\ncomputation:\n  flat_fee: {amount: 1}\n",
        id="a",
    )
    write_plan(
        tenant / "b.yaml",
        "assigned_to:\n  salesmen: [cid, bob]\ncomputation:\n  flat_fee: {amount: 2}\n",
        id="b",
        effective_from="2026-05-01",
    )
    [problem] = read_plans(tmp_path).problems
    assert problem.file == str(tenant / "b.yaml")
    assert problem.line == 8
    assert "'bob' is also assigned to plan 'a' v1" in problem.message
    assert "on 2026-05-01" in problem.message


# -- the shipped plans -----------------------------------------------------------------------------


def test_the_shipped_plans_are_valid_and_their_examples_pass() -> None:
    plans = load_plans(PLANS)
    assert {(p.tenant, p.id, p.version) for p in plans.plans} == {
        ("acme-roofing", "standard", 1),
        ("acme-roofing", "standard", 2),
        ("acme-roofing", "insurance-gross-profit", 1),
        ("acme-roofing", "service-flat-fee", 1),
    }


def test_shipped_json_schema_is_the_generated_one() -> None:
    shipped = json.loads((PLANS / "schema.json").read_text())
    assert shipped == json_schema(), (
        "run: python -m services.commissions.plans schema --output commission_plans/schema.json"
    )


def test_the_command_on_the_shipped_plans() -> None:
    runner = CliRunner()
    tested = runner.invoke(app, ["test", str(PLANS)])
    assert tested.exit_code == 0, tested.output
    assert "13 example(s) passed, 0 failed, 0 file(s) invalid" in tested.output
    assert "pass the third tier" in tested.output
    linted = runner.invoke(app, ["lint", str(PLANS)])
    assert linted.exit_code == 0, linted.output
    assert "4 valid plan file(s), 13 example(s); 0 file(s) refused" in linted.output


def test_the_command_names_a_failing_example_with_its_file_and_line(tmp_path: Path) -> None:
    examples = (
        "examples:\n  - name: wrong\n    job: {contract_price: 100}\n    expect: {amount: 7}\n"
    )
    path = write_plan(tmp_path / "acme-roofing" / "plan.yaml", PERCENT, examples=examples)
    result = CliRunner().invoke(app, ["test", str(tmp_path)])
    assert result.exit_code == 1
    assert f"FAIL {path}:12: 'wrong': amount 7.00 expected, got 6.00" in result.output
    assert "0 example(s) passed, 1 failed" in result.output
    linted = CliRunner().invoke(app, ["lint", str(tmp_path)])
    assert linted.exit_code == 1
    assert f"{path}:12: plan 'standard': example 'wrong' fails" in linted.output


def test_the_schema_command(tmp_path: Path) -> None:
    output = tmp_path / "schema.json"
    result = CliRunner().invoke(app, ["schema", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert json.loads(output.read_text()) == json_schema()
