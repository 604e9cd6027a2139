"""The policy engine: the one object services ask, ``engine.evaluate(point, facts, tenant)``.

It holds the active policy sets of one directory and swaps them atomically on reload: every
decision runs under the engine lock against exactly one snapshot. A file that fails validation
is refused (logged, counted) and its last good version stays active; a file that never was valid
leaves its decision point without rules, and a service that needs that point is not ready.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from pydantic import BaseModel, ValidationError

from shared.contracts.base import DecisionPoint, decision_points
from shared.platform.http.problems import PolicyUnavailable
from shared.platform.messaging.envelope import new_event_id
from shared.policy.compiled import CompiledRule, FactCheck
from shared.policy.decision import Decision, decide
from shared.policy.evaluators import DURABLE_LOCK, DurableFactEncoder, failing_tests, holds
from shared.policy.facts import flatten
from shared.policy.loader import LoadedPolicySet, PolicyProblem, load_policy_dir, policy_files

log = logging.getLogger(__name__)


class NoPolicy(PolicyUnavailable):
    """No valid policy set serves this decision point (the service is not ready): 503."""


class FactsInvalid(ValueError):
    """The facts do not fit the decision point's model: a bug in the service building them."""

    def __init__(self, decision_point: str, error: ValidationError | str) -> None:
        fields = (
            "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
            if isinstance(error, ValidationError)
            else error
        )
        super().__init__(f"facts for {decision_point} are not valid: {fields}")
        self.decision_point = decision_point


class PolicyMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.decisions = Counter(
            "roofline_policy_decisions_total",
            "Live decisions by policy set, matched rule and the rule's outcome; enforced=false "
            'for shadow rules (rule="" and outcome="allow" when nothing matched).',
            ["policy", "rule", "outcome", "enforced"],
            registry=registry,
        )
        self.evaluation_seconds = Histogram(
            "roofline_policy_evaluation_seconds",
            "Time to evaluate one decision.",
            ["decision_point"],
            buckets=(0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05),
            registry=registry,
        )
        self.reloads = Counter(
            "roofline_policy_reloads_total",
            "Policy directory reloads: ok (every file valid) or refused (a file was refused; its "
            "last good version stays active).",
            ["result"],
            registry=registry,
        )
        self.invalid_files = Gauge(
            "roofline_policy_invalid_files",
            "Policy files refused at the last (re)load.",
            registry=registry,
        )
        self.active = Gauge(
            "roofline_policy_active",
            "1 for each active policy set version.",
            ["policy", "version", "hash"],
            registry=registry,
        )


@dataclass(frozen=True)
class _Snapshot:
    sets: dict[str, LoadedPolicySet]  # by file path
    by_point: dict[str, tuple[LoadedPolicySet, ...]]


@dataclass
class RuleExplanation:
    policy: str
    rule: str
    title: str
    status: str
    held: bool
    outcome: str
    failing: list[FactCheck] = field(default_factory=list)


@dataclass
class Explanation:
    decision: Decision
    facts: dict[str, Any]
    rules: list[RuleExplanation]


class PolicyEngine:
    def __init__(
        self,
        directory: Path | str,
        *,
        metrics: PolicyMetrics | None = None,
        required: Iterable[str] = (),
    ) -> None:
        self.directory = Path(directory)
        self.metrics = metrics
        self.required = tuple(required)
        self.problems: list[PolicyProblem] = []
        self._snapshot = _Snapshot({}, {})
        self._signature: str | None = None
        self._closed = False
        self._points: dict[str, DecisionPoint] = decision_points()
        self._encoders = {
            name: DurableFactEncoder(point.facts) for name, point in self._points.items()
        }
        unknown = set(self.required) - set(self._points)
        if unknown:
            raise ValueError(f"unknown decision point(s): {', '.join(sorted(unknown))}")

    # -- loading ----------------------------------------------------------------------------------

    def _directory_signature(self) -> str:
        digest = hashlib.sha256()
        for path in policy_files(self.directory) if self.directory.exists() else []:
            digest.update(str(path).encode())
            try:
                digest.update(path.read_bytes())
            except OSError:
                continue
        return digest.hexdigest()

    def load(self) -> list[PolicyProblem]:
        """(Re)load the directory; swap in what is valid, keep the last good version of what is
        not. Returns the problems found (also logged)."""
        signature = self._directory_signature()
        current = self._snapshot
        loaded = load_policy_dir(self.directory, reuse=current.sets)
        sets = dict(loaded.sets)
        refused = {problem.file for problem in loaded.problems}
        ids = {s.id for s in sets.values()}
        for path, previous in current.sets.items():
            # Last good stays: a refused file that had a valid version keeps it.
            if path in refused and path not in sets and previous.id not in ids:
                sets[path] = previous
                ids.add(previous.id)
        by_point: dict[str, list[LoadedPolicySet]] = {}
        for loaded_set in sets.values():
            by_point.setdefault(loaded_set.spec.decision_point, []).append(loaded_set)
        snapshot = _Snapshot(sets, {point: tuple(group) for point, group in by_point.items()})
        with DURABLE_LOCK:
            if self._closed:  # closed while this reload ran (a service stopping): drop it
                kept = {id(s) for s in current.sets.values()}
                for loaded_set in sets.values():
                    if id(loaded_set) not in kept:
                        loaded_set.close()
                return loaded.problems
            self._snapshot = snapshot
        kept = {id(s) for s in sets.values()}
        for previous in current.sets.values():
            if id(previous) not in kept:
                previous.close()
        self._signature = signature
        self.problems = loaded.problems
        self._report(snapshot, loaded.problems)
        return loaded.problems

    def _report(self, snapshot: _Snapshot, problems: list[PolicyProblem]) -> None:
        for problem in problems:
            log.error("policy file refused: %s", problem, extra={"policy_file": problem.file})
        for loaded_set in snapshot.sets.values():
            log.info(
                "policy set active: %s v%s (%s) from %s",
                loaded_set.id,
                loaded_set.spec.version,
                loaded_set.hash,
                loaded_set.path,
            )
        if self.metrics is not None:
            self.metrics.reloads.labels("refused" if problems else "ok").inc()
            self.metrics.invalid_files.set(len({problem.file for problem in problems}))
            self.metrics.active.clear()
            for loaded_set in snapshot.sets.values():
                self.metrics.active.labels(
                    loaded_set.id, str(loaded_set.spec.version), loaded_set.hash
                ).set(1)

    def changed(self) -> bool:
        return self._directory_signature() != self._signature

    async def watch(self, interval_s: float = 1.0) -> None:
        """Reload whenever the directory's content changes (polling: no watcher dependency, and
        it works the same on every filesystem)."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                if await asyncio.to_thread(self.changed):
                    await asyncio.to_thread(self.load)
            except Exception:  # keep watching whatever one reload did
                log.exception("policy reload failed")

    def missing(self) -> list[str]:
        """Required decision points without a valid policy set."""
        return [point for point in self.required if point not in self._snapshot.by_point]

    def active_sets(self) -> list[LoadedPolicySet]:
        return list(self._snapshot.sets.values())

    def close(self) -> None:
        with DURABLE_LOCK:
            self._closed = True
            snapshot, self._snapshot = self._snapshot, _Snapshot({}, {})
        for loaded_set in snapshot.sets.values():
            loaded_set.close()

    # -- deciding ---------------------------------------------------------------------------------

    def _facts(self, decision_point: str, facts: BaseModel | dict[str, Any]) -> BaseModel:
        point = self._points.get(decision_point)
        if point is None:
            raise NoPolicy(f"unknown decision point {decision_point!r}")
        if isinstance(facts, point.facts):
            return facts
        if isinstance(facts, BaseModel):
            facts = facts.model_dump()
        try:
            return point.facts.model_validate(facts)
        except ValidationError as exc:
            raise FactsInvalid(decision_point, exc) from exc

    def params(self, decision_point: str, tenant: str) -> dict[str, Any]:
        """The params of the policy sets at ``decision_point``, with ``tenant``'s overrides: for a
        service that looks a table up (the carriers' depreciation deadlines)."""
        with DURABLE_LOCK:
            sets = self._snapshot.by_point.get(decision_point)
            if not sets:
                raise NoPolicy(f"no valid policy set for {decision_point}")
            merged: dict[str, Any] = {}
            for loaded_set in sets:
                merged.update(loaded_set.variants[loaded_set.for_tenant(tenant)].params)
        return merged

    def evaluate(
        self, decision_point: str, facts: BaseModel | dict[str, Any], tenant: str
    ) -> Decision:
        """Decide: every policy set of ``decision_point`` (with ``tenant``'s overrides) on
        ``facts``, validated by the point's model first."""
        started = time.perf_counter()
        model = self._facts(decision_point, facts)
        try:
            fact = self._encoders[decision_point](model)
        except ValueError as exc:
            raise FactsInvalid(decision_point, str(exc)) from exc
        with DURABLE_LOCK:
            sets = self._snapshot.by_point.get(decision_point)
            if not sets:
                raise NoPolicy(f"no valid policy set for {decision_point}")
            evaluated = []
            for loaded_set in sets:
                key = loaded_set.for_tenant(tenant)
                matched = loaded_set.durable[key].matched_unlocked(fact)
                evaluated.append((loaded_set.variants[key], matched))
        decision = decide(decision_point, tenant, evaluated, model, new_event_id())
        if self.metrics is not None:
            self.metrics.evaluation_seconds.labels(decision_point).observe(
                time.perf_counter() - started
            )
            if not decision.matched:
                for policy in decision.policies:
                    self.metrics.decisions.labels(policy.id, "", "allow", "true").inc()
            for rule in decision.matched:
                self.metrics.decisions.labels(
                    rule.policy, rule.rule, rule.outcome, "true" if rule.enforced else "false"
                ).inc()
        return decision

    def explain(
        self, decision_point: str, facts: BaseModel | dict[str, Any], tenant: str
    ) -> Explanation:
        """The decision, and for every rule whether its condition held and, if not, which
        tests failed (plain-Python evaluation of the same compiled rules)."""
        model = self._facts(decision_point, facts)
        flat = flatten(model)
        decision = self.evaluate(decision_point, model, tenant)
        rules: list[RuleExplanation] = []
        for loaded_set in self._snapshot.by_point.get(decision_point, ()):
            variant = loaded_set.variants[loaded_set.for_tenant(tenant)]
            for spec in loaded_set.spec.rules:
                compiled: CompiledRule | None = variant.rules_by_id.get(spec.id)
                if compiled is None:
                    rules.append(
                        RuleExplanation(
                            loaded_set.id,
                            spec.id,
                            spec.title,
                            spec.status,
                            False,
                            spec.outcome.type,
                        )
                    )
                    continue
                held = holds(compiled.condition, flat)
                rules.append(
                    RuleExplanation(
                        loaded_set.id,
                        spec.id,
                        spec.title,
                        spec.status,
                        held,
                        compiled.outcome.type,
                        [] if held else failing_tests(compiled.condition, flat),
                    )
                )
        return Explanation(decision, flat, rules)
