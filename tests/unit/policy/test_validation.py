"""A broken rule file is refused with messages naming the file, the line and the rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shared.cli.app import app
from shared.policy.engine import PolicyEngine
from shared.policy.loader import PolicyFileInvalid, PolicyProblem, load_policy_file

VALID = """
id: completion_test
version: 1
owners: [owner@example.com]
description: test set
decision_point: jobs.complete_job
params:
  min_photos: {type: integer, default: 1}
example_facts:
  job: {milestone: approved, assigned: true}
  photos: {post_roof_inspection: 3}
  actor: {roles: [csa]}
rules:
  - id: photos-uploaded
    title: photos
    owner: owner@example.com
    when: {fact: photos.post_roof_inspection, lt: $params.min_photos}
    outcome: {type: require, items: [photos], reason: "only {photos.post_roof_inspection}"}
    examples:
      - name: no photos
        facts: {photos: {post_roof_inspection: 0}}
        expect: {outcome: require, matched: [photos-uploaded]}
"""


def problems(write_policy: Callable[..., Path], text: str) -> list[PolicyProblem]:
    path = write_policy(text)
    with pytest.raises(PolicyFileInvalid) as refused:
        load_policy_file(path)
    for problem in refused.value.problems:
        assert problem.file == str(path)
    return refused.value.problems


def only(found: list[PolicyProblem]) -> PolicyProblem:
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def test_the_valid_base_loads(write_policy: Callable[..., Path]) -> None:
    loaded = load_policy_file(write_policy(VALID))
    assert loaded.id == "completion_test"
    loaded.close()


def test_yaml_syntax_error_names_the_line(write_policy: Callable[..., Path]) -> None:
    problem = only(
        problems(write_policy, VALID.replace("description: test set", "description: [x"))
    )
    assert problem.line in (4, 5)  # the line with the bracket, or where YAML noticed
    assert "not valid YAML" in problem.message


def test_unknown_fact_path_suggests_the_right_one(write_policy: Callable[..., Path]) -> None:
    text = VALID.replace("fact: photos.post_roof_inspection", "fact: photos.post_roof_inspecton")
    problem = only(problems(write_policy, text))
    assert (problem.line, problem.rule) == (16, "photos-uploaded")
    assert "'photos.post_roof_inspecton' is not a fact" in problem.message
    assert "did you mean photos.post_roof_inspection" in problem.message


def test_operator_that_does_not_fit_the_fact(write_policy: Callable[..., Path]) -> None:
    text = VALID.replace(
        "when: {fact: photos.post_roof_inspection, lt: $params.min_photos}",
        "when: {fact: job.assigned, gt: 1}",
    )
    problem = only(problems(write_policy, text))
    assert problem.rule == "photos-uploaded"
    assert "'gt' cannot be used on 'job.assigned'" in problem.message


def test_value_of_the_wrong_type(write_policy: Callable[..., Path]) -> None:
    text = VALID.replace("lt: $params.min_photos", 'lt: "three"')
    problem = only(problems(write_policy, text))
    assert problem.line == 16
    assert "'photos.post_roof_inspection' is an integer; 'three' is text" in problem.message


def test_choice_value_that_does_not_exist(write_policy: Callable[..., Path]) -> None:
    text = VALID.replace(
        "when: {fact: photos.post_roof_inspection, lt: $params.min_photos}",
        "when: {fact: job.milestone, eq: finished}",
    )
    assert "'finished' is not" in only(problems(write_policy, text)).message


def test_param_of_the_wrong_type(write_policy: Callable[..., Path]) -> None:
    problem = only(problems(write_policy, VALID.replace("default: 1}", "default: many}")))
    assert problem.line == 7
    assert "param 'min_photos': expected integer" in problem.message


def test_unknown_param(write_policy: Callable[..., Path]) -> None:
    problem = only(problems(write_policy, VALID.replace("$params.min_photos", "$params.min_photo")))
    assert "unknown param 'min_photo'" in problem.message
    assert "did you mean min_photos" in problem.message


def test_unknown_operator_and_two_operators(write_policy: Callable[..., Path]) -> None:
    text = VALID.replace("lt: $params.min_photos", "below: 1")
    assert "exactly one operator" in only(problems(write_policy, text)).message
    text = VALID.replace("lt: $params.min_photos", "lt: 1, gt: 0")
    assert "found lt, gt" in only(problems(write_policy, text)).message


def test_duplicate_rule_ids(write_policy: Callable[..., Path]) -> None:
    rule = VALID[VALID.index("  - id: photos-uploaded") :]
    problem = only(problems(write_policy, VALID + rule))
    assert problem.rule == "photos-uploaded"
    assert problem.line == 22
    assert "duplicate rule id" in problem.message


def test_a_rule_without_an_example_is_an_error(write_policy: Callable[..., Path]) -> None:
    text = VALID[: VALID.index("    examples:")]
    problem = only(problems(write_policy, text))
    assert problem.rule == "photos-uploaded"
    assert "'examples' is missing" in problem.message


def test_a_failing_example_names_the_example(write_policy: Callable[..., Path]) -> None:
    text = VALID.replace("expect: {outcome: require", "expect: {outcome: deny")
    problem = only(problems(write_policy, text))
    assert problem.rule == "photos-uploaded"
    assert problem.line == 19
    assert "example 'no photos' fails: expected deny" in problem.message
    assert "got require matching [photos-uploaded]" in problem.message


def test_example_facts_that_do_not_fit_the_model(write_policy: Callable[..., Path]) -> None:
    text = VALID.replace("facts: {photos: {post_roof_inspection: 0}}", "facts: {photos: {x: 0}}")
    assert "its facts are not valid: photos.x" in only(problems(write_policy, text)).message


def test_typo_in_a_field_name(write_policy: Callable[..., Path]) -> None:
    found = problems(write_policy, VALID.replace("    title: photos", "    titel: photos"))
    assert {(p.line, p.rule, p.message) for p in found} == {
        (13, "photos-uploaded", "'title' is missing"),
        (14, "photos-uploaded", "'titel' is not part of the rule-file format (check the spelling)"),
    }


def test_unknown_decision_point(write_policy: Callable[..., Path]) -> None:
    text = VALID.replace("decision_point: jobs.complete_job", "decision_point: jobs.finish")
    problem = only(problems(write_policy, text))
    assert problem.line == 5
    assert "unknown decision point 'jobs.finish'" in problem.message


def test_matches_inside_not_is_refused(write_policy: Callable[..., Path]) -> None:
    text = VALID.replace(
        "when: {fact: photos.post_roof_inspection, lt: $params.min_photos}",
        "when: {not: {fact: job.milestone, matches: 'app.*'}}",
    )
    assert "'matches' cannot be used inside 'not'" in only(problems(write_policy, text)).message


def test_reason_naming_an_unknown_fact(write_policy: Callable[..., Path]) -> None:
    text = VALID.replace('{photos.post_roof_inspection}"', '{photos.inspection}"')
    assert "'{photos.inspection}' is not a fact" in only(problems(write_policy, text)).message


def test_override_of_an_unknown_param(write_policy: Callable[..., Path]) -> None:
    text = VALID + "overrides:\n  - {tenant: acme, approved_by: boss, params: {min_foto: 2}}\n"
    problem = only(problems(write_policy, text))
    assert problem.line == 23
    assert "override for tenant 'acme' sets unknown param 'min_foto'" in problem.message


def test_outcome_missing_what_it_needs(write_policy: Callable[..., Path]) -> None:
    text = VALID.replace("{type: require, items: [photos],", "{type: require,")
    assert "a 'require' outcome needs items" in only(problems(write_policy, text)).message


def test_lint_exits_non_zero_with_file_and_line(write_policy: Callable[..., Path]) -> None:
    path = write_policy(VALID.replace("lt: $params.min_photos", 'lt: "three"'))
    result = CliRunner().invoke(app, ["policy", "lint", str(path.parent)])
    assert result.exit_code == 1
    assert f"{path}:16: rule 'photos-uploaded':" in result.output
    assert "error code" not in result.output


def test_policy_test_reports_the_failing_rule(write_policy: Callable[..., Path]) -> None:
    path = write_policy(VALID.replace("expect: {outcome: require", "expect: {outcome: deny"))
    result = CliRunner().invoke(app, ["policy", "test", str(path.parent)])
    assert result.exit_code == 1
    assert "FAIL photos-uploaded" in result.output
    assert "example 'no photos'" in result.output
    assert "0 rule(s) passed, 1 failed" in result.output


def test_only_a_refusing_outcome_lists_missing_items(write_policy: Callable[..., Path]) -> None:
    text = VALID.replace(
        "{type: require, items: [photos],", "{type: notify, to: csa, items: [photos],"
    ).replace("expect: {outcome: require", "expect: {outcome: notify")
    message = only(problems(write_policy, text)).message
    assert "a 'notify' outcome lets the action go ahead: it has no missing items" in message
    text = VALID.replace("{type: require, items: [photos],", "{type: deny, items: [photos],")
    loaded = load_policy_file(write_policy(text.replace("outcome: require", "outcome: deny")))
    loaded.close()


def test_only_a_notify_is_told_only_when_allowed(write_policy: Callable[..., Path]) -> None:
    text = VALID.replace(
        "{type: require, items: [photos],",
        "{type: require, only_when_allowed: true, items: [photos],",
    )
    message = only(problems(write_policy, text)).message
    assert "only_when_allowed is for a 'notify' outcome" in message


TABLE = """  carriers:
    type: table
    key: carrier
    columns: {carrier: text, days: integer}
    default:
      - {carrier: "*", days: 180}
      - {carrier: Acme Mutual, days: 365}
"""


def with_table(table: str = TABLE) -> str:
    return VALID.replace("params:\n", "params:\n" + table)


def test_a_table_param_is_rows_each_cell_in_its_column_type(
    write_policy: Callable[..., Path],
) -> None:
    path = write_policy(with_table() + OVERRIDE_TABLE)
    engine = PolicyEngine(path.parent, required=())
    assert engine.load() == []
    rows = engine.params("jobs.complete_job", "other")["carriers"]
    assert rows == ({"carrier": "*", "days": 180}, {"carrier": "Acme Mutual", "days": 365})
    assert engine.params("jobs.complete_job", "acme")["carriers"] == ({"carrier": "*", "days": 90},)
    engine.close()


OVERRIDE_TABLE = (
    "overrides:\n  - {tenant: acme, approved_by: boss, params: {carriers: [{carrier: '*', "
    "days: 90}]}}\n"
)


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ("{carrier: Acme, days: soon}", "row 3, column 'days': expected integer"),
        ("{carrier: Acme}", "row 3: missing days"),
        ("{carrier: Acme, days: 1, note: x}", "row 3: unknown column(s) note"),
        ("{carrier: Acme Mutual, days: 1}", "carrier Acme Mutual appears in more than one row"),
    ],
)
def test_a_bad_table_row_is_named(write_policy: Callable[..., Path], row: str, said: str) -> None:
    text = with_table(TABLE + f"      - {row}\n")
    problem = only(problems(write_policy, text))
    assert "param 'carriers'" in problem.message and said in problem.message


def test_a_rule_cannot_compare_with_a_table(write_policy: Callable[..., Path]) -> None:
    text = with_table().replace("$params.min_photos", "$params.carriers")
    problem = only(problems(write_policy, text))
    assert "param 'carriers' is a table: a rule cannot compare with it" in problem.message


def test_a_table_needs_its_columns(write_policy: Callable[..., Path]) -> None:
    text = with_table(TABLE.replace("    columns: {carrier: text, days: integer}\n", ""))
    problem = only(problems(write_policy, text))
    assert "a table param needs 'columns'" in problem.message
