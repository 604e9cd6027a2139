"""Compile a validated rule file (and a tenant's override) into the compiled form.

Every problem is reported with the location in the file (a path such as
``("rules", 2, "when", "all", 0, "eq")``) so the loader can name the line and the rule.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.policy.compiled import (
    ALWAYS,
    AllOf,
    AnyOf,
    CompiledOutcome,
    CompiledPolicySet,
    CompiledRule,
    FactCheck,
    Node,
    negate,
)
from shared.policy.decision import placeholders
from shared.policy.facts import OPERATORS_BY_KIND, FactField, check_decimal_places
from shared.policy.format import (
    AllOf as AllOfSpec,
)
from shared.policy.format import (
    AnyOf as AnyOfSpec,
)
from shared.policy.format import Condition as ConditionSpec
from shared.policy.format import (
    FactTest,
    NotOf,
    Override,
    Param,
    PolicySetFile,
)

Loc = tuple[str | int, ...]
_UNKNOWN = object()  # a $params reference that does not resolve (already reported)


class CompileProblems(Exception):
    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


def show(value: Any) -> str:
    """A value as a policy owner wrote it in YAML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list | tuple):
        return f"[{', '.join(show(item) for item in value)}]"
    return str(value)


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "yes/no (true/false)"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def coerce_param(param: Param, value: Any) -> Any:
    """A param value in its declared type, or ValueError saying what was expected."""
    match param.type:
        case "integer":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        case "decimal":
            if isinstance(value, int | float | str | Decimal) and not isinstance(value, bool):
                try:
                    return check_decimal_places(Decimal(str(value)), "value")
                except InvalidOperation:
                    pass
        case "text":
            if isinstance(value, str):
                return value
        case "boolean":
            if isinstance(value, bool):
                return value
        case "list":
            if isinstance(value, list) and all(isinstance(item, str) for item in value):
                return tuple(value)
        case "table":
            return _table(param, value)
    raise ValueError(f"expected {param.type}, got {_kind_of(value)} ({value!r})")


def _table(param: Param, value: Any) -> tuple[dict[str, Any], ...]:
    """A table's rows, each cell in its column's type; rows are named by ``param.key``, which
    must be unique."""
    columns = param.columns or {}
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        raise ValueError(f"expected a list of rows ({', '.join(columns)}), got {_kind_of(value)}")
    rows: list[dict[str, Any]] = []
    for number, row in enumerate(value, start=1):
        unknown = sorted(set(row) - set(columns))
        missing = [name for name in columns if name not in row]
        if unknown or missing:
            said = [f"unknown column(s) {', '.join(unknown)}"] if unknown else []
            said += [f"missing {', '.join(missing)}"] if missing else []
            raise ValueError(f"row {number}: {'; '.join(said)}")
        cells = {}
        for name, kind in columns.items():
            try:
                cells[name] = coerce_param(Param(type=kind, default=None), row[name])
            except ValueError as exc:
                raise ValueError(f"row {number}, column '{name}': {exc}") from None
        rows.append(cells)
    if param.key is not None:
        names = [row[param.key] for row in rows]
        repeated = sorted({str(name) for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"{param.key} {', '.join(repeated)} appears in more than one row")
    return tuple(rows)


def resolve_params(
    spec: PolicySetFile, override: Override | None
) -> tuple[dict[str, Any], list[tuple[Loc, str]]]:
    params: dict[str, Any] = {}
    problems: list[tuple[Loc, str]] = []
    for name, param in spec.params.items():
        try:
            params[name] = coerce_param(param, param.default)
        except ValueError as exc:
            problems.append((("params", name, "default"), f"param '{name}': {exc}"))
    if override is not None:
        index = spec.overrides.index(override)
        for name, value in override.params.items():
            loc: Loc = ("overrides", index, "params", name)
            if name not in spec.params:
                problems.append(
                    (
                        loc,
                        f"override for tenant '{override.tenant}' sets unknown param '{name}'"
                        f"{_suggest(name, spec.params)}",
                    )
                )
                continue
            try:
                params[name] = coerce_param(spec.params[name], value)
            except ValueError as exc:
                problems.append((loc, f"override for tenant '{override.tenant}', '{name}': {exc}"))
    return params, problems


def _suggest(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


class _Compiler:
    def __init__(
        self, fields: dict[str, FactField], params: dict[str, Any], declared: dict[str, Param]
    ) -> None:
        self.fields = fields
        self.params = params
        # Declared but invalid params are reported once, where they are declared.
        self.declared = set(declared)
        # Tables are looked up by the services; rules compare facts with single values only.
        self.tables = {name for name, param in declared.items() if param.type == "table"}
        self.problems: list[tuple[Loc, str]] = []

    def problem(self, loc: Loc, message: str) -> None:
        self.problems.append((loc, message))

    def param(self, value: Any, loc: Loc) -> Any:
        if isinstance(value, str) and value.startswith("$params."):
            name = value[len("$params.") :]
            if name not in self.params:
                if name not in self.declared:
                    self.problem(loc, f"unknown param '{name}'{_suggest(name, self.declared)}")
                return _UNKNOWN
            if name in self.tables:
                self.problem(
                    loc,
                    f"param '{name}' is a table: a rule cannot compare with it (the service "
                    "looks its rows up)",
                )
                return _UNKNOWN
            return self.params[name]
        return value

    def literal(self, field: FactField, value: Any, loc: Loc) -> Any:
        """``value`` as the type of ``field`` (one element of it, for lists)."""
        wrong = f"'{field.path}' is {field.type_name}; {value!r} is {_kind_of(value)}"
        kind = field.kind
        if kind in ("choice", "list") and field.choices is not None:
            if value not in field.choices:
                self.problem(loc, f"'{field.path}' is {field.type_name}; {value!r} is not")
            return value
        if kind in ("text", "list"):
            if not isinstance(value, str):
                self.problem(loc, wrong)
            return value
        if kind == "boolean":
            if not isinstance(value, bool):
                self.problem(loc, wrong)
            return value
        if kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                self.problem(loc, wrong)
            return value
        if kind == "decimal":
            if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
                self.problem(loc, wrong)
                return value
            try:
                return check_decimal_places(Decimal(str(value)), f"'{field.path}'")
            except ValueError as exc:
                self.problem(loc, str(exc))
                return value
        if kind == "date":
            if isinstance(value, date):
                return value
            try:
                return date.fromisoformat(str(value))
            except ValueError:
                self.problem(loc, wrong)
                return value
        raise AssertionError(kind)

    def test(self, spec: FactTest, loc: Loc) -> FactCheck | None:
        field = self.fields.get(spec.fact)
        if field is None:
            self.problem(
                (*loc, "fact"),
                f"'{spec.fact}' is not a fact of this decision point"
                f"{_suggest(spec.fact, self.fields)}",
            )
            return None
        op = spec.operator
        value_loc: Loc = (*loc, op)
        if op not in OPERATORS_BY_KIND[field.kind]:
            self.problem(
                value_loc,
                f"'{op}' cannot be used on '{field.path}' ({field.type_name}); "
                f"use one of: {', '.join(OPERATORS_BY_KIND[field.kind])}",
            )
            return None
        raw = self.param(spec.value, value_loc)
        if raw is _UNKNOWN:
            return None
        source = f"{field.path} {op}: {show(raw)}"
        if isinstance(spec.value, str) and spec.value.startswith("$params."):
            source += f" ({spec.value})"
        if op == "exists":
            return FactCheck(field.path, op, bool(raw), field, source)
        if op == "matches":
            try:
                re.compile(raw)
            except (re.error, TypeError) as exc:
                self.problem(value_loc, f"'{raw}' is not a valid pattern: {exc}")
                return None
            return FactCheck(field.path, op, raw, field, source)
        if op in ("in", "not_in"):
            if not isinstance(raw, list | tuple) or not raw:
                self.problem(value_loc, f"'{op}' needs a non-empty list of values")
                return None
            values = tuple(self.literal(field, item, value_loc) for item in raw)
            return FactCheck(field.path, op, values, field, source)
        return FactCheck(field.path, op, self.literal(field, raw, value_loc), field, source)

    def condition(self, spec: ConditionSpec | str, loc: Loc) -> Node | None:
        if spec == "always":
            return ALWAYS
        if isinstance(spec, FactTest):
            return self.test(spec, loc)
        if isinstance(spec, NotOf):
            inner = self.condition(spec.not_, (*loc, "not"))
            if inner is None:
                return None
            try:
                return negate(inner)
            except ValueError as exc:
                self.problem((*loc, "not"), str(exc))
                return None
        key = "all" if isinstance(spec, AllOfSpec) else "any"
        assert isinstance(spec, AllOfSpec | AnyOfSpec)
        items = [
            self.condition(item, (*loc, key, index))
            for index, item in enumerate(getattr(spec, key))
        ]
        if any(item is None for item in items):
            return None
        return (AllOf if key == "all" else AnyOf)(tuple(items))  # type: ignore[arg-type]

    def template(self, template: str, loc: Loc) -> None:
        for name in placeholders(template):
            if name.startswith("params."):
                if name[7:] not in self.declared:
                    self.problem(loc, f"'{{{name}}}': unknown param '{name[7:]}'")
            elif name not in self.fields:
                self.problem(
                    loc,
                    f"'{{{name}}}' is not a fact of this decision point"
                    f"{_suggest(name, self.fields)}",
                )


def compile_policy(
    spec: PolicySetFile,
    fields: dict[str, FactField],
    *,
    content_hash: str,
    source: str,
    override: Override | None = None,
) -> CompiledPolicySet:
    params, problems = resolve_params(spec, override)
    compiler = _Compiler(fields, params, spec.params)
    compiler.problems.extend(problems)
    rules: list[CompiledRule] = []
    for index, rule in enumerate(spec.rules):
        loc: Loc = ("rules", index)
        condition = compiler.condition(rule.when, (*loc, "when"))
        outcome = rule.outcome
        compiler.template(outcome.reason, (*loc, "outcome", "reason"))
        for item_index, item in enumerate(outcome.items):
            compiler.template(item, (*loc, "outcome", "items", item_index))
        days: int | None = None
        if outcome.within_business_days is not None:
            days_loc: Loc = (*loc, "outcome", "within_business_days")
            days = compiler.param(outcome.within_business_days, days_loc)
            if days is _UNKNOWN:
                days = None
            elif isinstance(days, bool) or not isinstance(days, int) or days < 0:
                compiler.problem(
                    days_loc, f"within_business_days must be a whole number ≥ 0, not {days!r}"
                )
                days = None
        if condition is None or rule.status == "disabled":
            continue
        rules.append(
            CompiledRule(
                id=rule.id,
                title=rule.title,
                owner=rule.owner,
                status=rule.status,
                condition=condition,
                outcome=CompiledOutcome(
                    type=outcome.type,
                    reason=outcome.reason,
                    items=tuple(outcome.items),
                    to=outcome.to,
                    task=outcome.task,
                    within_business_days=days,
                    escalate_to=outcome.escalate_to,
                    only_when_allowed=outcome.only_when_allowed,
                ),
            )
        )
    if compiler.problems:
        raise CompileProblems(compiler.problems)
    return CompiledPolicySet(
        id=spec.id,
        version=str(spec.version),
        hash=content_hash,
        decision_point=spec.decision_point,
        source=source,
        tenant=override.tenant if override else None,
        override=override,
        params=params,
        rules=tuple(rules),
    )
