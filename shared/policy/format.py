"""The rule-file format: one YAML file is one policy set (see ``policies/README.md``).

These models are the single source of the format: ``policies/schema.json`` is generated from them
(``roofline policy schema``) and the loader validates every file against them before the deeper
checks (fact paths, operators, values, examples) in ``shared.policy.loader``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

OutcomeType = Literal["deny", "hold", "escalate", "require", "schedule", "notify"]
# Strongest first: the combined outcome of a decision is the strongest enforced match
# ("deny-overrides"); with no enforced match it is "allow".
PRECEDENCE: tuple[str, ...] = ("deny", "hold", "escalate", "require", "schedule", "notify", "allow")
Operator = Literal["eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "exists", "matches"]
OPERATORS: tuple[str, ...] = Operator.__args__  # type: ignore[attr-defined]

RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FactTest(_Strict):
    """``{fact: materials.colour, exists: false}``: one test of one fact (exactly one operator)."""

    fact: str = Field(description="Dotted path of a fact of the decision point.")
    eq: Any = None
    ne: Any = None
    lt: Any = None
    lte: Any = None
    gt: Any = None
    gte: Any = None
    in_: list[Any] | str | None = Field(None, alias="in")
    not_in: list[Any] | str | None = None
    exists: bool | None = None
    matches: str | None = Field(None, description="A regular expression the whole value matches.")

    @model_validator(mode="before")
    @classmethod
    def _one_operator(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = [key for key in data if key in OPERATORS]
            if len(given) != 1:
                raise ValueError(
                    f"a fact test needs exactly one operator ({', '.join(OPERATORS)}); "
                    f"found {', '.join(given) if given else 'none'}"
                )
        return data

    @property
    def operator(self) -> str:
        for name in OPERATORS:
            if name in self.model_fields_set or (name == "in" and "in_" in self.model_fields_set):
                return name
        raise AssertionError("validated to have one operator")

    @property
    def value(self) -> Any:
        op = self.operator
        return getattr(self, "in_" if op == "in" else op)


class AllOf(_Strict):
    all: list[Condition] = Field(min_length=1, description="Every condition holds.")


class AnyOf(_Strict):
    any: list[Condition] = Field(min_length=1, description="At least one condition holds.")


class NotOf(_Strict):
    not_: Condition = Field(alias="not", description="The condition does not hold.")


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        for key, tag in (("all", "all"), ("any", "any"), ("not", "not"), ("fact", "fact")):
            if key in value:
                return tag
    elif isinstance(value, BaseModel):
        return {AllOf: "all", AnyOf: "any", NotOf: "not", FactTest: "fact"}.get(type(value))
    return None


Condition = Annotated[
    Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotOf, Tag("not")]
    | Annotated[FactTest, Tag("fact")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message="a condition is one of: all: [...], any: [...], not: {...}, "
        "or a fact test {fact: ..., <operator>: ...}",
    ),
]


class Outcome(_Strict):
    type: OutcomeType
    reason: str = Field(
        min_length=1,
        description="What the user is told. {fact.path} and {params.name} are filled in.",
    )
    items: list[str] = Field(
        default_factory=list,
        description="What is missing, one entry each: needed by require; a deny or hold about "
        "something missing lists it too (the refusal's missing list).",
    )
    to: str | None = Field(None, description="escalate / notify: the role that is told.")
    task: str | None = Field(None, description="schedule: what must be done by the deadline.")
    within_business_days: int | str | None = Field(
        None, description="schedule: the deadline in business days (a number or $params.name)."
    )
    escalate_to: str | None = Field(
        None, description="schedule: the role told when the deadline passes."
    )
    only_when_allowed: bool = Field(
        False,
        description="notify: tell the role only when the action goes ahead (not when another "
        "rule refuses it); by default a notify is delivered whatever the decision.",
    )

    @model_validator(mode="after")
    def _fields_for_type(self) -> Outcome:
        needs = {
            "require": ("items",),
            "escalate": ("to",),
            "notify": ("to",),
            "schedule": ("task", "within_business_days"),
        }.get(self.type, ())
        missing = [name for name in needs if getattr(self, name) in (None, "", [])]
        if missing:
            raise ValueError(f"a '{self.type}' outcome needs {' and '.join(missing)}")
        if self.only_when_allowed and self.type != "notify":
            raise ValueError("only_when_allowed is for a 'notify' outcome")
        if self.items and self.type not in ("deny", "hold", "require"):
            raise ValueError(
                f"a '{self.type}' outcome lets the action go ahead: it has no missing items"
            )
        return self


class Expectation(_Strict):
    outcome: Literal["deny", "hold", "escalate", "require", "schedule", "notify", "allow"]
    matched: list[str] = Field(
        default_factory=list, description="Ids of every rule of this set that matches."
    )


class Example(_Strict):
    name: str = Field(min_length=1)
    tenant: str | None = Field(None, description="Evaluate with this tenant's overrides.")
    facts: dict[str, Any] = Field(
        default_factory=dict, description="Laid over the set's example_facts."
    )
    expect: Expectation


class Rule(_Strict):
    id: str = Field(pattern=RULE_ID_PATTERN, description="Stable id: never reuse or rename.")
    title: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    status: Literal["active", "shadow", "disabled"] = Field(
        "active", description="shadow: evaluated and logged but not enforced."
    )
    description: str = ""
    when: Condition | Literal["always"]
    outcome: Outcome
    examples: list[Example] = Field(
        min_length=1, description="At least one: the examples are the rule's tests."
    )


ColumnType = Literal["integer", "decimal", "text", "boolean"]


class Param(_Strict):
    type: Literal["integer", "decimal", "text", "boolean", "list", "table"]
    default: Any
    description: str = ""
    columns: dict[str, ColumnType] | None = Field(
        None,
        description="A table's columns and their types; its default (and an override) is a "
        "list of rows, each giving every column.",
    )
    key: str | None = Field(
        None, description="A table's column that names a row (unique); e.g. carrier."
    )

    @model_validator(mode="after")
    def _table_has_columns(self) -> Param:
        if self.type == "table":
            if not self.columns:
                raise ValueError("a table param needs 'columns' (name: type)")
            if self.key is not None and self.key not in self.columns:
                raise ValueError(f"key '{self.key}' is not one of the columns")
        elif self.columns is not None or self.key is not None:
            raise ValueError("'columns' and 'key' are for table params only")
        return self


class Override(_Strict):
    tenant: str = Field(min_length=1)
    approved_by: str = Field(min_length=1)
    approved_on: date | None = None
    reason: str = ""
    params: dict[str, Any] = Field(min_length=1)


class PolicySetFile(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int | str = Field(description="Raise it with every change you ship.")
    owners: list[str] = Field(min_length=1)
    description: str = Field(min_length=1)
    decision_point: str = Field(description="Where services ask, e.g. jobs.submit_to_production.")
    params: dict[str, Param] = Field(default_factory=dict)
    example_facts: dict[str, Any] = Field(
        default_factory=dict, description="Facts every example starts from."
    )
    rules: list[Rule] = Field(min_length=1)
    overrides: list[Override] = Field(default_factory=list)


def json_schema() -> dict[str, Any]:
    schema = PolicySetFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Roofline policy set"
    return schema
