"""Facts: what a decision point knows when it asks the policy layer, as typed dotted paths.

Every decision point has one pydantic model of facts (``shared.contracts``). The
policy layer reads the model's fields as paths (``materials.colour``) with a *kind* that says
which operators a rule may use on it and which literal values make sense. Facts are validated by
that model before any matching, so a rule never compares a number with a string by accident.
"""

from __future__ import annotations

import enum
import functools
import operator
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter

# What a fact is, for a policy owner: each kind allows some operators (see OPERATORS_BY_KIND).
Kind = Literal["boolean", "integer", "decimal", "date", "text", "choice", "list"]

ORDERED_OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "exists")
OPERATORS_BY_KIND: dict[str, tuple[str, ...]] = {
    "boolean": ("eq", "ne", "exists"),
    "integer": ORDERED_OPERATORS,
    "decimal": ORDERED_OPERATORS,
    "date": ORDERED_OPERATORS,
    "text": ("eq", "ne", "in", "not_in", "exists", "matches"),
    "choice": ("eq", "ne", "in", "not_in", "exists", "matches"),
    "list": ("in", "not_in", "exists"),
}

# Money and other decimals are compared exactly; the matching engine receives them as whole
# hundredths, so a fact or a rule value may have at most this many decimal places.
DECIMAL_PLACES = 2


@dataclass(frozen=True)
class FactField:
    path: str
    kind: Kind
    # The type of one value (of an element, for lists): used to check a rule's literal values.
    adapter: TypeAdapter[Any]
    choices: tuple[str, ...] | None = None
    description: str = ""

    @property
    def type_name(self) -> str:
        if self.kind == "list":
            return f"a list of {', '.join(self.choices) if self.choices else 'text'}"
        if self.choices:
            return f"one of {', '.join(self.choices)}"
        return {
            "decimal": "a number (at most 2 decimal places)",
            "date": "a date (YYYY-MM-DD)",
        }.get(self.kind, f"{'an' if self.kind[0] in 'aeiou' else 'a'} {self.kind}")


def _strip_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(args) == 1:
            return args[0]
    if get_origin(annotation) is typing.Annotated:
        return _strip_optional(get_args(annotation)[0])
    return annotation


def _choices(annotation: Any) -> tuple[str, ...] | None:
    if get_origin(annotation) is Literal:
        return tuple(str(arg) for arg in get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return tuple(str(member.value) for member in annotation)
    return None


def _scalar_kind(annotation: Any) -> Kind:
    if _choices(annotation):
        return "choice"
    for python_type, kind in (
        (bool, "boolean"),
        (int, "integer"),
        (Decimal, "decimal"),
        (date, "date"),
        (str, "text"),
    ):
        if annotation is python_type:
            return typing.cast(Kind, kind)
    raise TypeError(
        f"facts cannot use {annotation!r}: use bool, int, Decimal, date, str or Literal"
    )


def fact_fields(model: type[BaseModel], prefix: str = "") -> dict[str, FactField]:
    """Every leaf of ``model`` as ``{"a.b": FactField}`` (nested models become dotted paths)."""
    fields: dict[str, FactField] = {}
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = _strip_optional(info.annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields.update(fact_fields(annotation, f"{path}."))
            continue
        description = info.description or ""
        if get_origin(annotation) in (list, tuple, set, frozenset):
            (element,) = get_args(annotation)[:1]
            element = _strip_optional(element)
            if _scalar_kind(element) not in ("choice", "text"):
                raise TypeError(f"{path}: list facts hold text or choices")
            fields[path] = FactField(
                path, "list", TypeAdapter(element), _choices(element), description
            )
            continue
        kind = _scalar_kind(annotation)
        fields[path] = FactField(
            path, kind, TypeAdapter(annotation), _choices(annotation), description
        )
    return fields


def flatten(facts: BaseModel) -> dict[str, Any]:
    """The facts as ``{"a.b": value}``; unset (None) values are left out, lists become tuples and
    enum members their values, so both evaluators see exactly the same plain data."""
    return _flattener(type(facts))(facts)


@functools.cache
def _flattener(model: type[BaseModel]) -> Callable[[BaseModel], dict[str, Any]]:
    """A flattening function for one facts model, its paths worked out once (this runs for
    every decision; walking the model generically cost more than matching)."""
    getters = [
        (path, operator.attrgetter(path), field.kind == "list", is_enum(field))
        for path, field in fact_fields(model).items()
    ]

    def flatten_model(facts: BaseModel) -> dict[str, Any]:
        flat: dict[str, Any] = {}
        for path, getter, is_list, is_enum in getters:
            try:
                value = getter(facts)
            except AttributeError:  # an optional part (a sub-model) that is not set
                continue
            if value is None:
                continue
            if is_list:
                value = tuple(plain_value(item) for item in value) if is_enum else tuple(value)
            elif is_enum:
                value = plain_value(value)
            flat[path] = value
        return flat

    return flatten_model


def is_enum(field: FactField) -> bool:
    core = field.adapter.core_schema
    return core.get("type") == "enum" or (
        core.get("type") == "nullable" and core.get("schema", {}).get("type") == "enum"
    )


def plain_value(value: Any) -> Any:
    """An enum member's value; anything else as it is."""
    return value.value if isinstance(value, enum.Enum) else value


def check_decimal_places(value: Decimal, what: str) -> Decimal:
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or (
        exponent < -DECIMAL_PLACES and value != value.quantize(Decimal(1).scaleb(-DECIMAL_PLACES))
    ):
        raise ValueError(f"{what}: {value} has more than {DECIMAL_PLACES} decimal places")
    return value
