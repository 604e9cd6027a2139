"""Read and fully validate commission plan files: YAML, format, examples, and across files the
versions and assignments; and the ``PlanBook`` that says which plan version pays a salesman.

A problem names the file, the line and the plan, in words a plan owner understands::

    commission_plans/acme-roofing/standard-v2.yaml:14: plan 'standard': tiers go up: 'from'
    20000 comes after 50000 (list the tiers from the lowest volume to the highest, each once)

Layout: ``commission_plans/<tenant>/<any name>.yaml``, one file per plan version; the folder is
the tenant (a file's ``tenant:`` must match it). A book is all or nothing: a version silently
left out would pay with the version before it.

The format's machinery is the policy layer's (``shared.policy.loader``: a line map of the YAML,
pydantic errors mapped to lines, a short sha256 of the file's bytes), written again here in its
few lines because importing the policy loader brings the rule engines (0.4 s).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from services.commissions.domain.figures import JobFigures, PlanInvalid, PlanNotFound
from services.commissions.plans.evaluate import CompiledPlan, compile_plan, evaluate, money
from services.commissions.plans.format import Example, PlanFile
from shared.yaml_lines import Loc, line_at, line_map


@dataclass(frozen=True)
class PlanProblem:
    file: str
    line: int | None
    plan: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        plan = f" plan '{self.plan}':" if self.plan else ""
        return f"{where}:{plan} {self.message}"


class PlanFileInvalid(PlanInvalid):
    """Plan files refused, with every problem found."""

    def __init__(self, problems: list[PlanProblem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems

    @property
    def extensions(self) -> dict[str, Any]:
        """An HTTP answer's errors: each problem at its line of the plan file."""
        return {
            "errors": [
                {"field": f"plan line {p.line}" if p.line else "plan", "message": p.message}
                for p in self.problems
            ]
        }


@dataclass(frozen=True, eq=False)
class LoadedPlan:
    """One valid plan file: one version of one tenant's plan."""

    path: str
    spec: PlanFile
    hash: str
    compiled: CompiledPlan = field(repr=False)
    lines: dict[Loc, int] = field(default_factory=dict, repr=False)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def version(self) -> int:
        return self.spec.version

    @property
    def tenant(self) -> str:
        return self.spec.tenant

    @property
    def effective_from(self) -> date:
        return self.spec.effective_from

    def line(self, *loc: str | int) -> int | None:
        return line_at(self.lines, loc)


@dataclass(frozen=True)
class ExampleResult:
    example: str
    passed: bool
    detail: str = ""
    line: int | None = None


# -- YAML with line numbers and exact numbers ----------------------------------------------------


class _PlanYaml(yaml.SafeLoader):
    """YAML whose numbers with a point are Decimals read from their text: 0.1 stays 0.1."""


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        value = Decimal(text)
    except ArithmeticError:
        return text  # .inf, .nan: left as text, the format refuses it as a number
    return value if value.is_finite() else text


_PlanYaml.add_constructor("tag:yaml.org,2002:float", _decimal)


def _data_path(data: Any, loc: Iterable[Any]) -> Loc:
    """A pydantic error location reduced to the keys that are in the file (pydantic adds the
    names of union members and validators)."""
    path: list[str | int] = []
    current = data
    aliases = {"from_": "from"}
    for part in loc:
        part = aliases.get(part, part) if isinstance(part, str) else part
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and part < len(current)
        if in_dict or in_list:
            current = current[part]
            path.append(part)
        elif isinstance(current, dict | list) and isinstance(part, str) and part.isidentifier():
            if not path or path[-1] != part:
                path.append(part)  # a missing or unknown key: kept so the message names it
            current = None
    return tuple(path)


def _describe(error: ErrorDetails, path: Loc) -> str:
    name = (
        "".join(f"[{part + 1}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(
            "."
        )
        or "the file"
    )
    last = path[-1] if path else "the file"
    kind = error["type"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        return f"'{last}' is missing"
    if kind == "extra_forbidden":
        return f"'{last}' is not part of the plan format (check the spelling)"
    if kind == "too_short" and last == "examples":
        return "a plan needs at least one example (examples are its tests)"
    if kind == "string_pattern_mismatch" and last == "id":
        return "a plan id uses lower-case letters, digits, dashes and underscores"
    if kind == "decimal_max_places" and last == "rate":
        return f"{name}: a rate is a percent with at most 4 decimals"
    if kind == "decimal_max_places":
        return f"{name}: an amount is to the cent (at most 2 decimals)"
    return f"{name}: {message}"


# -- one file -------------------------------------------------------------------------------------


def content_hash(content: bytes) -> str:
    """The file's bytes, hashed: what computed an amount, named on every evaluation."""
    return hashlib.sha256(content).hexdigest()[:16]


def load_plan_file(
    path: Path | str, *, check_examples: bool = True, tenant_folder: str | None = None
) -> LoadedPlan:
    """A fully validated plan version, or PlanFileInvalid listing every problem found.
    ``tenant_folder``: the folder the file is in, which its ``tenant`` must name."""
    path = Path(path)
    name = str(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise PlanFileInvalid([PlanProblem(name, None, None, f"cannot read: {exc}")]) from exc
    return parse_plan(content, name, check_examples=check_examples, tenant_folder=tenant_folder)


def parse_plan(
    content: bytes, name: str, *, check_examples: bool = True, tenant_folder: str | None = None
) -> LoadedPlan:
    """A plan version from its file's bytes (``name``: what problems call it, e.g. a candidate
    plan sent to the recompute)."""
    try:
        text = content.decode("utf-8")
        node = yaml.compose(text, Loader=_PlanYaml)
        data = yaml.load(text, Loader=_PlanYaml)  # a SafeLoader subclass
    except UnicodeDecodeError as exc:
        raise PlanFileInvalid([PlanProblem(name, None, None, "is not UTF-8 text")]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or str(exc)
        raise PlanFileInvalid(
            [PlanProblem(name, mark.line + 1 if mark else None, None, f"not valid YAML: {what}")]
        ) from exc
    if not isinstance(data, dict):
        raise PlanFileInvalid(
            [PlanProblem(name, 1, None, "a plan file is a mapping (id:, version:, tenant: ...)")]
        )
    lines = line_map(node) if node is not None else {}
    plan_id = str(data["id"]) if isinstance(data.get("id"), str) else None

    def problem(loc: Loc, message: str) -> PlanProblem:
        return PlanProblem(name, line_at(lines, loc), plan_id, message)

    try:
        spec = PlanFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = _data_path(data, error["loc"])
            problems.append(problem(loc, _describe(error, loc)))
        raise PlanFileInvalid(list(dict.fromkeys(problems))) from exc

    problems = []
    if tenant_folder is not None and spec.tenant != tenant_folder:
        problems.append(
            problem(
                ("tenant",),
                f"the plan is for tenant '{spec.tenant}' but its file is in the folder of "
                f"'{tenant_folder}' (one folder per tenant)",
            )
        )
    names: set[str] = set()
    for index, example in enumerate(spec.examples):
        if example.name in names:
            problems.append(problem(("examples", index, "name"), "a second example of this name"))
        names.add(example.name)
    if problems:
        raise PlanFileInvalid(problems)

    digest = content_hash(content)
    loaded = LoadedPlan(name, spec, digest, compile_plan(spec, digest), lines)
    if check_examples:
        failures = [result for result in run_examples(loaded) if not result.passed]
        if failures:
            raise PlanFileInvalid(
                [
                    PlanProblem(name, f.line, spec.id, f"example '{f.example}' fails: {f.detail}")
                    for f in failures
                ]
            )
    return loaded


def run_examples(loaded: LoadedPlan) -> list[ExampleResult]:
    return [
        _run_example(loaded, index, example) for index, example in enumerate(loaded.spec.examples)
    ]


def _run_example(loaded: LoadedPlan, index: int, example: Example) -> ExampleResult:
    line = loaded.line("examples", index)
    job = JobFigures(**example.job.model_dump())
    result = evaluate(loaded, job, example.month_volume)
    wrong = []
    if result.amount != example.expect.amount:
        wrong.append(f"amount {money(example.expect.amount)} expected, got {money(result.amount)}")
    if example.expect.advance is not None and result.advance != example.expect.advance:
        wrong.append(
            f"advance {money(example.expect.advance)} expected, got {money(result.advance)}"
        )
    if not wrong:
        return ExampleResult(example.name, True, line=line)
    return ExampleResult(
        example.name, False, f"{'; '.join(wrong)} ({' / '.join(result.lines)})", line
    )


# -- a directory and the book ----------------------------------------------------------------------


def plan_files(path: Path | str) -> list[Path]:
    """The plan files under ``path`` (a file, a tenant's folder, or the folder of tenants)."""
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(p for pattern in ("*.yaml", "*.yml") for p in path.rglob(pattern) if p.is_file())


def tenant_folder(root: Path | str, file: Path) -> str | None:
    """The tenant folder ``file`` is in, below ``root``; None for a file given alone or lying in
    ``root`` itself (a tenant's folder given as ``root``: its files name their tenant)."""
    root = Path(root)
    return file.parent.name if root.is_dir() and file.parent != root else None


@dataclass
class PlanLoad:
    plans: list[LoadedPlan]
    problems: list[PlanProblem]


def read_plans(path: Path | str, *, check_examples: bool = True) -> PlanLoad:
    """Every valid plan file under ``path`` and the problems of the others, and of the valid
    ones together (a version twice, a salesman on two plans at once)."""
    root = Path(path)
    files = plan_files(root)
    problems: list[PlanProblem] = []
    plans: list[LoadedPlan] = []
    if not files:
        problems.append(PlanProblem(str(root), None, None, "no plan files (*.yaml) here"))
    for file in files:
        folder = tenant_folder(root, file)
        try:
            plans.append(load_plan_file(file, check_examples=check_examples, tenant_folder=folder))
        except PlanFileInvalid as exc:
            problems.extend(exc.problems)
    problems.extend(book_problems(plans))
    return PlanLoad(plans, problems)


def load_plans(path: Path | str) -> PlanBook:
    """The book of every plan under ``path``, or PlanFileInvalid if any file has a problem."""
    loaded = read_plans(path)
    if loaded.problems:
        raise PlanFileInvalid(loaded.problems)
    return PlanBook(loaded.plans)


def book_problems(plans: Iterable[LoadedPlan]) -> list[PlanProblem]:
    """What is wrong with these plans together: the same version twice, a higher version that
    starts earlier, and two plans in force at once for the same salesman, team, or as the
    tenant's default."""
    problems: list[PlanProblem] = []
    by_plan: dict[tuple[str, str], list[LoadedPlan]] = defaultdict(list)
    for plan in plans:
        by_plan[(plan.tenant, plan.id)].append(plan)
    for versions in by_plan.values():
        versions.sort(key=lambda p: p.version)
        for previous, plan in pairwise(versions):
            if plan.version == previous.version:
                problems.append(
                    PlanProblem(
                        plan.path,
                        plan.line("version"),
                        plan.id,
                        f"version {plan.version} is also {previous.path} (raise it)",
                    )
                )
            elif plan.effective_from < previous.effective_from:
                problems.append(
                    PlanProblem(
                        plan.path,
                        plan.line("effective_from"),
                        plan.id,
                        f"version {plan.version} starts {plan.effective_from}, before version "
                        f"{previous.version} ({previous.effective_from}): a later version "
                        "starts on the same day or later",
                    )
                )
    if problems:
        return problems
    by_tenant: dict[str, list[LoadedPlan]] = defaultdict(list)
    for (tenant, _), versions in by_plan.items():
        by_tenant[tenant].extend(versions)
    seen: set[tuple[str, str, str]] = set()
    for tenant_plans in by_tenant.values():
        # Which versions are in force changes only on an effective date: check each one.
        for day in sorted({p.effective_from for p in tenant_plans}):
            in_force = _in_force(tenant_plans, day)
            for what in ("salesmen", "teams", "everyone_else"):
                holder: dict[str, LoadedPlan] = {}
                for plan in in_force:
                    assigned = plan.spec.assigned_to
                    keys: list[str]
                    if what == "everyone_else":
                        keys = ["everyone else"] if assigned.everyone_else else []
                    else:
                        keys = getattr(assigned, what)
                    for index, key in enumerate(keys):
                        other = holder.setdefault(key, plan)
                        if other is plan or (plan.path, what, key) in seen:
                            continue
                        seen.add((plan.path, what, key))
                        loc: Loc = ("assigned_to", what, index)
                        if what == "everyone_else":
                            loc = ("assigned_to", what)
                        label = "everyone else" if what == "everyone_else" else f"'{key}'"
                        problems.append(
                            PlanProblem(
                                plan.path,
                                plan.line(*loc),
                                plan.id,
                                f"{label} is also assigned to plan '{other.id}' "
                                f"v{other.version} ({other.path}) on {day}: one plan at a time",
                            )
                        )
    return problems


def _in_force(plans: Iterable[LoadedPlan], on: date) -> list[LoadedPlan]:
    """Each plan's latest version effective on ``on``."""
    latest: dict[str, LoadedPlan] = {}
    for plan in plans:
        if plan.effective_from <= on:
            current = latest.get(plan.id)
            if current is None or (plan.effective_from, plan.version) > (
                current.effective_from,
                current.version,
            ):
                latest[plan.id] = plan
    return list(latest.values())


class PlanBook:
    """Every tenant's plan versions: which one pays a salesman on a day.

    Built from loaded plans (``load_plans(directory)`` or ``PlanBook(plans)``); refuses plans that
    do not fit together (``book_problems``) with PlanFileInvalid."""

    def __init__(self, plans: Iterable[LoadedPlan]) -> None:
        plans = list(plans)
        problems = book_problems(plans)
        if problems:
            raise PlanFileInvalid(problems)
        self._versions: dict[tuple[str, str], list[LoadedPlan]] = defaultdict(list)
        self._tenants: dict[str, list[LoadedPlan]] = defaultdict(list)
        for plan in plans:
            self._versions[(plan.tenant, plan.id)].append(plan)
            self._tenants[plan.tenant].append(plan)
        for versions in self._versions.values():
            versions.sort(key=lambda p: (p.effective_from, p.version))
        # plan_for is asked once per job of a recompute: its answer per tenant and day is kept.
        self._in_force: dict[tuple[str, date], list[LoadedPlan]] = {}

    @property
    def plans(self) -> list[LoadedPlan]:
        return [plan for versions in self._versions.values() for plan in versions]

    def tenants(self) -> list[str]:
        return sorted(self._tenants)

    def versions(self, tenant: str, plan_id: str) -> list[LoadedPlan]:
        """The plan's versions, oldest first; empty if the tenant has no such plan."""
        return list(self._versions.get((tenant, plan_id), ()))

    def plan_for(self, tenant: str, salesman_id: str, teams: list[str], on: date) -> LoadedPlan:
        """The version in force on ``on`` of the plan assigned to the salesman, else to the first
        of his ``teams`` (in the order given) that has one, else the tenant's default plan
        (``everyone_else``); else PlanNotFound."""
        key = (tenant, on)
        in_force = self._in_force.get(key)
        if in_force is None:
            in_force = self._in_force[key] = _in_force(self._tenants.get(tenant, ()), on)
        for plan in in_force:
            if salesman_id in plan.spec.assigned_to.salesmen:
                return plan
        for team in teams:
            for plan in in_force:
                if team in plan.spec.assigned_to.teams:
                    return plan
        for plan in in_force:
            if plan.spec.assigned_to.everyone_else:
                return plan
        raise PlanNotFound(
            f"no commission plan of tenant '{tenant}' applies to salesman '{salesman_id}' "
            f"(teams: {', '.join(teams) or 'none'}) on {on.isoformat()}"
        )
