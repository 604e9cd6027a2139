"""Read and fully validate rule files: YAML, format, facts, operators, values, params, examples.

A problem names the file, the line and the rule, in words a policy owner understands::

    policies/production_handoff.yaml:42: rule 'metal-colour-photos': 'photos.colur' is not a
    fact of this decision point (did you mean photos.colour?)

Nothing from a file is used unless the whole file is valid, and its examples pass on both
evaluators.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from shared.contracts.base import DecisionPoint, decision_points
from shared.policy.compiled import CompiledPolicySet
from shared.policy.compiler import CompileProblems, Loc, compile_policy
from shared.policy.decision import combine
from shared.policy.evaluators import DurableEvaluator, PythonEvaluator, durable_fact
from shared.policy.facts import fact_fields, flatten
from shared.policy.format import Override, PolicySetFile
from shared.yaml_lines import line_at, line_map


@dataclass(frozen=True)
class PolicyProblem:
    file: str
    line: int | None
    rule: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        rule = f" rule '{self.rule}':" if self.rule else ""
        return f"{where}:{rule} {self.message}"


class PolicyFileInvalid(Exception):
    def __init__(self, problems: list[PolicyProblem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass
class LoadedPolicySet:
    """One valid rule file: its compiled defaults and one compiled variant per tenant override."""

    path: str
    spec: PolicySetFile
    hash: str
    point: DecisionPoint
    variants: dict[str | None, CompiledPolicySet]
    durable: dict[str | None, DurableEvaluator] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.spec.id

    def for_tenant(self, tenant: str | None) -> str | None:
        """The variant key for ``tenant``: its own if it has an override, else the defaults."""
        return tenant if tenant in self.variants else None

    def close(self) -> None:
        for evaluator in self.durable.values():
            evaluator.close()
        self.durable.clear()


@dataclass(frozen=True)
class ExampleResult:
    rule: str
    example: str
    passed: bool
    detail: str = ""
    skipped: bool = False


# -- YAML with line numbers -----------------------------------------------------------------------


def _data_path(data: Any, loc: Iterable[Any]) -> Loc:
    """A pydantic error location reduced to the keys that exist in the data (pydantic adds union
    tags and validator names that are not in the file)."""
    path: list[str | int] = []
    current = data
    aliases = {"in_": "in", "not_": "not"}
    for part in loc:
        part = aliases.get(part, part) if isinstance(part, str) else part
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and part < len(current)
        if in_dict or in_list:
            current = current[part]
            path.append(part)
        elif isinstance(current, dict | list) and isinstance(part, str) and part.isidentifier():
            # A missing or unknown field: keep it so the message can name it.
            if not path or path[-1] != part:
                path.append(part)
            current = None
    return tuple(path)


def _rule_at(data: Any, path: Loc) -> str | None:
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        try:
            rule = data["rules"][path[1]]
        except (KeyError, IndexError, TypeError):
            return None
        if isinstance(rule, dict) and rule.get("id"):
            return str(rule["id"])
        return f"#{path[1] + 1}"
    return None


def _describe(error: ErrorDetails, path: Loc) -> str:
    inside_rule = path[2:] if len(path) >= 2 and path[0] == "rules" else path
    name = (
        "".join(
            f"[{part + 1}]" if isinstance(part, int) else f".{part}" for part in inside_rule
        ).lstrip(".")
        or "the file"
    )
    last = path[-1] if path else "the file"
    kind = error["type"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        return f"'{last}' is missing"
    if kind == "extra_forbidden":
        return f"'{last}' is not part of the rule-file format (check the spelling)"
    if kind == "too_short" and last == "examples":
        return "a rule needs at least one example (examples are its tests)"
    if kind == "too_short":
        return f"'{last}' needs at least one entry"
    if kind == "string_pattern_mismatch" and last == "id":
        return "ids use lower-case letters, digits and dashes (e.g. contract-signed)"
    return f"{name}: {message}"


# -- loading ------------------------------------------------------------------------------------


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:16]


def load_policy_file(
    path: Path | str, *, with_durable: bool = True, check_examples: bool = True
) -> LoadedPolicySet:
    """A fully validated policy set, or PolicyFileInvalid listing every problem found.
    ``check_examples=False`` leaves running the examples to the caller (``policy test``)."""
    path = Path(path)
    name = str(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise PolicyFileInvalid([PolicyProblem(name, None, None, f"cannot read: {exc}")]) from exc
    try:
        text = content.decode("utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except UnicodeDecodeError as exc:
        raise PolicyFileInvalid([PolicyProblem(name, None, None, "is not UTF-8 text")]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or str(exc)
        raise PolicyFileInvalid(
            [PolicyProblem(name, mark.line + 1 if mark else None, None, f"not valid YAML: {what}")]
        ) from exc
    if not isinstance(data, dict):
        raise PolicyFileInvalid(
            [PolicyProblem(name, 1, None, "a policy file is a mapping (id:, version:, rules: ...)")]
        )
    lines = line_map(node) if node is not None else {}

    def problem(loc: Loc, message: str) -> PolicyProblem:
        return PolicyProblem(name, line_at(lines, loc), _rule_at(data, loc), message)

    try:
        spec = PolicySetFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            if any(str(part).startswith("literal[") for part in error["loc"]):
                continue  # the "when: always" branch of a condition that is a mapping: noise
            loc = _data_path(data, error["loc"])
            problems.append(problem(loc, _describe(error, loc)))
        raise PolicyFileInvalid(_unique(problems)) from exc

    problems = []
    point = decision_points().get(spec.decision_point)
    if point is None:
        known = ", ".join(sorted(decision_points()))
        raise PolicyFileInvalid(
            [
                problem(
                    ("decision_point",),
                    f"unknown decision point '{spec.decision_point}' (known: {known})",
                )
            ]
        )
    seen: dict[str, int] = {}
    for index, rule in enumerate(spec.rules):
        if rule.id in seen:
            problems.append(
                problem(
                    ("rules", index, "id"),
                    f"duplicate rule id (first used by rule #{seen[rule.id] + 1})",
                )
            )
        seen.setdefault(rule.id, index)
    tenants: set[str] = set()
    for index, tenant_override in enumerate(spec.overrides):
        if tenant_override.tenant in tenants:
            problems.append(
                problem(
                    ("overrides", index, "tenant"),
                    f"second override for tenant '{tenant_override.tenant}'",
                )
            )
        tenants.add(tenant_override.tenant)
    if problems:
        raise PolicyFileInvalid(problems)

    fields = fact_fields(point.facts)
    digest = content_hash(content)
    variants: dict[str | None, CompiledPolicySet] = {}
    overrides: list[Override | None] = [None, *spec.overrides]
    for override in overrides:
        try:
            variants[override.tenant if override else None] = compile_policy(
                spec, fields, content_hash=digest, source=name, override=override
            )
        except CompileProblems as exc:
            problems.extend(problem(loc, message) for loc, message in exc.problems)
            if override is None:
                break  # the defaults are broken: every tenant variant would repeat the problems
    if problems:
        raise PolicyFileInvalid(_unique(problems))

    loaded = LoadedPolicySet(name, spec, digest, point, variants)
    try:
        if with_durable:
            for key, variant in variants.items():
                loaded.durable[key] = DurableEvaluator.compile(variant)
        results = run_examples(loaded) if check_examples else []
        failures = [r for r in results if not r.passed and not r.skipped]
    except ValueError as exc:
        loaded.close()
        raise PolicyFileInvalid([problem((), str(exc))]) from exc
    if failures:
        loaded.close()
        raise PolicyFileInvalid(
            [
                problem(
                    _example_loc(spec, failure),
                    f"example '{failure.example}' fails: {failure.detail}",
                )
                for failure in failures
            ]
        )
    return loaded


def _example_loc(spec: PolicySetFile, result: ExampleResult) -> Loc:
    for index, rule in enumerate(spec.rules):
        if rule.id == result.rule:
            for example_index, example in enumerate(rule.examples):
                if example.name == result.example:
                    return ("rules", index, "examples", example_index)
            return ("rules", index)
    return ()


def _unique(problems: list[PolicyProblem]) -> list[PolicyProblem]:
    return list(dict.fromkeys(problems))


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def run_examples(loaded: LoadedPolicySet) -> list[ExampleResult]:
    """Every example of every rule, evaluated on the whole set (both evaluators when compiled)."""
    results = []
    for rule in loaded.spec.rules:
        for example in rule.examples:
            if rule.status == "disabled":
                results.append(ExampleResult(rule.id, example.name, True, "rule disabled", True))
                continue
            results.append(_run_example(loaded, rule.id, example))
    return results


def _run_example(loaded: LoadedPolicySet, rule_id: str, example: Any) -> ExampleResult:
    facts_data = deep_merge(loaded.spec.example_facts, example.facts)
    try:
        facts = loaded.point.facts.model_validate(facts_data)
    except ValidationError as exc:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        return ExampleResult(rule_id, example.name, False, f"its facts are not valid: {detail}")
    key = loaded.for_tenant(example.tenant)
    variant = loaded.variants[key]
    flat = flatten(facts)
    matched = PythonEvaluator(variant).matched(flat)
    durable = loaded.durable.get(key)
    if durable is not None:
        durable_matched = durable.matched(durable_fact(facts))
        if durable_matched != matched:
            return ExampleResult(
                rule_id,
                example.name,
                False,
                f"the two evaluators disagree (durable-rules {durable_matched}, python {matched}); "
                "please report this as a bug",
            )
    outcome = combine(
        [variant.rules_by_id[r].outcome.type for r in matched if variant.rules_by_id[r].enforced]
    )
    expected = example.expect
    if outcome == expected.outcome and sorted(matched) == sorted(expected.matched):
        return ExampleResult(rule_id, example.name, True)
    return ExampleResult(
        rule_id,
        example.name,
        False,
        f"expected {expected.outcome} matching [{', '.join(expected.matched)}], "
        f"got {outcome} matching [{', '.join(matched)}]",
    )


@dataclass
class LoadedDirectory:
    sets: dict[str, LoadedPolicySet]  # by file path
    problems: list[PolicyProblem]


def policy_files(directory: Path | str) -> list[Path]:
    directory = Path(directory)
    if directory.is_file():
        return [directory]
    return sorted(p for p in directory.glob("*.yaml") if p.is_file()) + sorted(
        p for p in directory.glob("*.yml") if p.is_file()
    )


def load_policy_dir(
    directory: Path | str,
    *,
    with_durable: bool = True,
    reuse: dict[str, LoadedPolicySet] | None = None,
) -> LoadedDirectory:
    """Every file of ``directory`` that is valid; problems for the others (and for a second file
    claiming an id already taken). A file whose content equals its set in ``reuse`` is reused
    as it is, not compiled again."""
    sets: dict[str, LoadedPolicySet] = {}
    problems: list[PolicyProblem] = []
    ids: dict[str, str] = {}
    files = policy_files(directory)
    if not files:
        problems.append(PolicyProblem(str(directory), None, None, "no policy files (*.yaml) here"))
    for path in files:
        previous = (reuse or {}).get(str(path))
        try:
            if previous is not None and content_hash(path.read_bytes()) == previous.hash:
                loaded = previous
            else:
                loaded = load_policy_file(path, with_durable=with_durable)
        except OSError as exc:
            problems.append(PolicyProblem(str(path), None, None, f"cannot read: {exc}"))
            continue
        except PolicyFileInvalid as exc:
            problems.extend(exc.problems)
            continue
        if loaded.id in ids:
            problems.append(
                PolicyProblem(
                    str(path),
                    1,
                    None,
                    f"policy set id '{loaded.id}' is already used by {ids[loaded.id]}",
                )
            )
            if loaded is not previous:
                loaded.close()
            continue
        ids[loaded.id] = str(path)
        sets[str(path)] = loaded
    return LoadedDirectory(sets, problems)
