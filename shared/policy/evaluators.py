"""Two evaluators of the compiled form: durable-rules (what services run) and plain Python.

Both answer one question: which rules of a compiled policy set match these facts? The plain-Python
one also explains itself (which test failed and why) and is the reference a test holds the
durable-rules one to, over every example and thousands of generated fact sets.

durable-rules is used through its engine module directly, never by service code:
- ruleset names are global per process: every compiled ruleset gets a fresh name, and is deleted
  when a reload replaces it;
- one decision is one fact asserted on a fresh session (sid), whose state is deleted afterwards;
- a catch-all rule means an assertion is always "handled";
- all calls go through one lock per process (the engine is not re-entrant); no timers are used,
  so durable's background dispatch threads (``durable.engine.Host``) are never started.
"""

from __future__ import annotations

import functools
import itertools
import json
import operator
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import durable_rules_engine as durable
from pydantic import BaseModel

from shared.policy.compiled import AllOf, CompiledPolicySet, FactCheck, Node
from shared.policy.facts import DECIMAL_PLACES, fact_fields, is_enum, plain_value

# -- plain Python ---------------------------------------------------------------------------------


def check_holds(test: FactCheck, facts: dict[str, Any]) -> bool:
    value = facts.get(test.path)
    op = test.op
    if test.fact.kind == "list":
        items = value or ()
        if op == "exists":
            return bool(items) == test.value
        hit = any(item in test.value for item in items)
        return hit if op == "in" else not hit
    if op == "exists":
        return (value is not None) == test.value
    if value is None:
        return False
    match op:
        case "eq":
            return value == test.value
        case "ne":
            return value != test.value
        case "lt":
            return value < test.value
        case "lte":
            return value <= test.value
        case "gt":
            return value > test.value
        case "gte":
            return value >= test.value
        case "in":
            return value in test.value
        case "not_in":
            return value not in test.value
        case "matches":
            return re.fullmatch(test.value, str(value)) is not None
    raise ValueError(f"unknown operator {op!r}")


def holds(node: Node, facts: dict[str, Any]) -> bool:
    if isinstance(node, FactCheck):
        return check_holds(node, facts)
    if isinstance(node, AllOf):
        return all(holds(item, facts) for item in node.items)
    return any(holds(item, facts) for item in node.items)


def failing_tests(node: Node, facts: dict[str, Any]) -> list[FactCheck]:
    """Why a condition does not hold: the tests that made it false (for ``policy explain``)."""
    if isinstance(node, FactCheck):
        return [] if check_holds(node, facts) else [node]
    if isinstance(node, AllOf):
        return [test for item in node.items for test in failing_tests(item, facts)]
    if any(holds(item, facts) for item in node.items):
        return []
    return [test for item in node.items for test in failing_tests(item, facts)]


class PythonEvaluator:
    def __init__(self, policy: CompiledPolicySet) -> None:
        self.policy = policy

    def matched(self, facts: dict[str, Any]) -> list[str]:
        return [rule.id for rule in self.policy.rules if holds(rule.condition, facts)]


# -- durable-rules --------------------------------------------------------------------------------

# The engine keeps global state (ruleset names, sessions): one lock for every call in the process.
DURABLE_LOCK = threading.RLock()
_ruleset_numbers = itertools.count(1)
_session_numbers = itertools.count(1)
_MARKER = "__decision"
_CATCH_ALL = "__catch_all"
_SCALE = 10**DECIMAL_PLACES
# One encoder for every decision (json.dumps with options builds a new one per call).
_to_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def durable_key(path: str) -> str:
    return path.replace(".", "__")


def _item_key(path: str, item: str) -> str:
    # Keys are plain identifiers: anything else in a list item is spelled out as _<hex>_.
    return f"{durable_key(path)}___" + re.sub(r"\W", lambda m: f"_{ord(m.group()):x}_", item)


def durable_value(value: Any) -> Any:
    """A fact or rule value as durable-rules compares it: decimals as whole hundredths (exact;
    never a float), dates as day numbers; bool, int and text as they are."""
    if isinstance(value, Decimal):
        return int(value * _SCALE)
    if isinstance(value, date):
        return value.toordinal()
    return value


class DurableFactEncoder:
    """A facts model instance as the dict durable-rules receives. It reads the model directly,
    with getters and conversions worked out once per field: this runs for every decision, and
    going through the flat dict first cost a tenth of an evaluation. The plain-Python evaluator
    reads the same model through ``flatten``: two independent readings the equivalence test
    holds against each other."""

    def __init__(self, model: type[BaseModel]) -> None:
        self._entries: list[tuple[Any, str, Callable[[Any], Any] | None, str]] = []
        self._lists: list[tuple[Any, str]] = []
        for path, field in fact_fields(model).items():
            getter = operator.attrgetter(path)
            if field.kind == "list":
                self._lists.append((getter, path))
                continue
            convert = _DURABLE_CONVERSIONS.get(field.kind)
            if convert is None and is_enum(field):
                convert = plain_value
            self._entries.append((getter, durable_key(path), convert, path))
        self._item_keys: dict[tuple[str, str], str] = {}

    def __call__(self, facts: BaseModel) -> dict[str, Any]:
        fact: dict[str, Any] = {_MARKER: 1}
        for getter, key, convert, path in self._entries:
            try:
                value = getter(facts)
            except AttributeError:  # an optional part (a sub-model) that is not set
                continue
            if value is None:
                continue
            if convert is None:
                fact[key] = value
                continue
            try:
                fact[key] = convert(value)
            except (ValueError, OverflowError) as exc:
                raise ValueError(f"{path}: {exc}") from exc
        for getter, path in self._lists:
            try:
                items = getter(facts)
            except AttributeError:
                continue
            if items:  # a non-empty list: its size, and one key per item
                fact[durable_key(path)] = len(items)
                for item in items:
                    fact[self._item_key(path, plain_value(item))] = True
        return fact

    def _item_key(self, path: str, item: str) -> str:
        key = self._item_keys.get((path, item))
        if key is None:
            key = self._item_keys[(path, item)] = _item_key(path, item)
        return key


def _hundredths(value: Decimal) -> int:
    """A decimal fact as whole hundredths, refusing one with more places (never rounded)."""
    scaled = value.scaleb(DECIMAL_PLACES)
    whole = int(scaled)
    if whole != scaled:
        raise ValueError(f"{value} has more than {DECIMAL_PLACES} decimal places")
    return whole


def durable_fact(facts: BaseModel) -> dict[str, Any]:
    return _encoder(type(facts))(facts)


@functools.cache
def _encoder(model: type[BaseModel]) -> DurableFactEncoder:
    return DurableFactEncoder(model)


def _durable_test(test: FactCheck) -> dict[str, Any]:
    key = durable_key(test.path)
    op = test.op
    if op == "exists":
        return {"$ex" if test.value else "$nex": {key: 1}}
    if test.fact.kind == "list":
        if op == "in":
            return {"$or": [{"$ex": {_item_key(test.path, item): 1}} for item in test.value]}
        return {"$and": [{"$nex": {_item_key(test.path, item): 1}} for item in test.value]}
    if op == "in":
        return {"$or": [{key: durable_value(item)} for item in test.value]}
    if op == "not_in":
        return {"$and": [{"$neq": {key: durable_value(item)}} for item in test.value]}
    if op == "eq":
        return {key: durable_value(test.value)}
    if op == "matches":
        return {"$mt": {key: test.value}}
    return {f"${'neq' if op == 'ne' else op}": {key: durable_value(test.value)}}


def _durable_node(node: Node) -> dict[str, Any]:
    if isinstance(node, FactCheck):
        return _durable_test(node)
    if not node.items:
        return {"$ex": {_MARKER: 1}}
    return {("$and" if isinstance(node, AllOf) else "$or"): [_durable_node(i) for i in node.items]}


def durable_ruleset(policy: CompiledPolicySet) -> dict[str, Any]:
    """The durable-rules JSON ruleset: one rule per compiled rule (named by its id), each behind
    the marker every decision fact carries, plus the catch-all."""
    rules: dict[str, Any] = {
        rule.id: {"all": [{"m": {"$and": [{"$ex": {_MARKER: 1}}, _durable_node(rule.condition)]}}]}
        for rule in policy.rules
    }
    rules[_CATCH_ALL] = {"all": [{"m": {"$ex": {_MARKER: 1}}}]}
    return rules


@dataclass
class DurableEvaluator:
    policy: CompiledPolicySet
    name: str
    handle: int | None

    @classmethod
    def compile(cls, policy: CompiledPolicySet) -> DurableEvaluator:
        name = f"r{next(_ruleset_numbers)}_{policy.id}"
        definition = json.dumps(durable_ruleset(policy), ensure_ascii=False)
        with DURABLE_LOCK:
            try:
                handle = durable.create_ruleset(name, definition)
            except durable.error as exc:
                raise ValueError(f"the matching engine refused the rules: {exc}") from exc
        return cls(policy, name, handle)

    def matched(self, fact: dict[str, Any]) -> list[str]:
        """The ids of the rules matching ``fact`` (a ``durable_fact``), in file order."""
        with DURABLE_LOCK:
            return self.matched_unlocked(dict(fact))

    def matched_unlocked(self, fact: dict[str, Any]) -> list[str]:
        """``matched`` for a caller that already holds ``DURABLE_LOCK``."""
        if self.handle is None:
            raise RuntimeError(f"ruleset {self.name} was closed")
        sid = str(next(_session_numbers))
        fact["sid"] = sid  # a fresh session per decision (the fact dict is this call's own)
        names = set(_fired(self.handle, _to_json(fact)))
        durable.delete_state(self.handle, sid)
        return [rule.id for rule in self.policy.rules if rule.id in names]

    def close(self) -> None:
        with DURABLE_LOCK:
            if self.handle is not None:
                durable.delete_ruleset(self.handle)
                self.handle = None


def _fired(handle: int, fact_json: str) -> Iterator[str]:
    code, state_handle = durable.assert_fact(handle, fact_json)[:2]
    if code not in (0,):
        # 1: not handled, 2: observed before, 3: queued. The catch-all and fresh session ids
        # rule these out; reaching here means the engine changed under us.
        raise RuntimeError(f"durable-rules answered {code} to a decision fact")
    result = durable.start_action_for_state(handle, state_handle)
    message = result[1] if result else None
    while message:
        # A message is {"<rule name>": {...the fact...}}: the rule name is all we need.
        yield message[2 : message.index('"', 2)]
        message = durable.complete_and_start_action(handle, state_handle)


# How a fact of each kind is given to durable-rules (others go as they are).
_DURABLE_CONVERSIONS: dict[str, Callable[[Any], Any]] = {
    "decimal": _hundredths,
    "date": date.toordinal,
}
