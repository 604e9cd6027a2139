"""``roofline policy lint | test | explain | replay | schema``: the policy owner's tools.

Each imports the policy engine when it runs (durable-rules and the compiler are most of the
command's start-up time), like the other subcommands in ``shared.cli.app``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
import yaml

from shared.cli.suites import SuiteChoiceNeeded
from shared.cli.timeparse import parse_since
from shared.platform.settings import SERVICES, load_settings

app = typer.Typer(
    help="Check, test, explain and replay the rule files in policies/.", no_args_is_help=True
)

PathArgument = Annotated[
    Path | None,
    typer.Argument(help="A policy directory or one file (default: ROOFLINE_POLICY_DIR)."),
]


def _directory(path: Path | None) -> Path:
    if path is not None:
        return path
    directory = load_settings().policy_dir
    # Shown in every message: relative to where the owner stands, when it is below it.
    return directory.relative_to(Path.cwd()) if directory.is_relative_to(Path.cwd()) else directory


@app.command()
def lint(path: PathArgument = None) -> None:
    """Validate rule files: YAML, format, facts, operators, values, params and examples."""
    from shared.policy.loader import load_policy_dir

    loaded = load_policy_dir(_directory(path))
    for problem in loaded.problems:
        typer.echo(str(problem), err=True)
    rules = sum(len(s.spec.rules) for s in loaded.sets.values())
    examples = sum(len(r.examples) for s in loaded.sets.values() for r in s.spec.rules)
    for loaded_set in loaded.sets.values():
        loaded_set.close()
    files = len({p.file for p in loaded.problems})
    typer.echo(
        f"{len(loaded.sets)} valid policy set(s), {rules} rule(s), {examples} example(s); "
        f"{files} file(s) refused"
    )
    raise typer.Exit(1 if loaded.problems else 0)


@app.command("test")
def test_command(path: PathArgument = None) -> None:
    """Run every rule's examples (on both evaluators); print pass/fail per rule."""
    from shared.policy.loader import PolicyFileInvalid, load_policy_file, policy_files, run_examples

    files = policy_files(_directory(path))
    passed = failed = 0
    invalid = 0
    if not files:
        typer.echo(f"{_directory(path)}: no policy files (*.yaml)", err=True)
        raise typer.Exit(1)
    for file in files:
        try:
            loaded = load_policy_file(file, check_examples=False)
        except PolicyFileInvalid as exc:
            invalid += 1
            typer.echo(f"{file}: INVALID")
            for problem in exc.problems:
                typer.echo(f"  {problem}")
            continue
        typer.echo(f"{file} ({loaded.id} v{loaded.spec.version})")
        results = run_examples(loaded)
        loaded.close()
        for rule in loaded.spec.rules:
            mine = [r for r in results if r.rule == rule.id]
            failures = [r for r in mine if not r.passed]
            if all(r.skipped for r in mine):
                typer.echo(f"  SKIP {rule.id} (disabled)")
            elif failures:
                failed += 1
                typer.echo(f"  FAIL {rule.id}")
                for failure in failures:
                    typer.echo(f"       example '{failure.example}': {failure.detail}")
            else:
                passed += 1
                typer.echo(f"  pass {rule.id} ({len(mine)} example(s))")
    typer.echo(f"{passed} rule(s) passed, {failed} failed, {invalid} file(s) invalid")
    raise typer.Exit(1 if failed or invalid else 0)


@app.command()
def explain(
    decision_point: Annotated[str, typer.Argument(help="e.g. jobs.submit_to_production")],
    facts: Annotated[Path, typer.Option(help="YAML or JSON file with the facts.")],
    tenant: Annotated[str, typer.Option(help="Evaluate with this tenant's overrides.")] = "default",
    policies: Annotated[
        Path | None, typer.Option(help="Policy directory (default: ROOFLINE_POLICY_DIR).")
    ] = None,
) -> None:
    """Show each rule, whether its condition held and why not, and the combined outcome."""
    from shared.policy.compiler import show
    from shared.policy.engine import FactsInvalid, NoPolicy, PolicyEngine

    try:
        data = yaml.safe_load(facts.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise typer.BadParameter(f"cannot read facts from {facts}: {exc}") from exc
    engine = PolicyEngine(_directory(policies))
    for problem in engine.load():
        typer.echo(f"warning: {problem}", err=True)
    try:
        explanation = engine.explain(decision_point, data or {}, tenant)
    except (FactsInvalid, NoPolicy) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.close()
    decision = explanation.decision
    typer.echo(f"{decision_point} for tenant {tenant}")
    for policy in decision.policies:
        override = (
            f", override for {policy.tenant_override} approved by {policy.override_approved_by}"
            if policy.tenant_override
            else ""
        )
        typer.echo(f"policy {policy.id} v{policy.version} ({policy.hash}{override})")
    for rule in explanation.rules:
        status = "" if rule.status == "active" else f" [{rule.status}]"
        if rule.status == "disabled":
            typer.echo(f"  -   {rule.policy}/{rule.rule}{status}: not evaluated")
            continue
        mark = "MATCH" if rule.held else "no"
        typer.echo(f"  {mark:<5} {rule.policy}/{rule.rule}{status} -> {rule.outcome}: {rule.title}")
        for test in rule.failing:
            actual = explanation.facts.get(test.path)
            shown = "not set" if actual is None else show(actual)
            typer.echo(f"          failed: {test.source} (the fact is {shown})")
    typer.echo(f"outcome: {decision.outcome}")
    for matched in decision.matched:
        note = "" if matched.enforced else " (shadow: not enforced)"
        items = f" Missing: {', '.join(matched.items)}." if matched.items else ""
        typer.echo(f"  {matched.outcome}: {matched.reason}{items}{note}")


@app.command()
def replay(
    candidate: Annotated[Path, typer.Option(help="The changed policy directory (or one file).")],
    since: Annotated[
        str | None, typer.Option(help="ISO time, or a duration ago such as 2h or 7d.")
    ] = None,
    service: Annotated[
        list[str] | None, typer.Option(help="Only this service's log; repeat for several.")
    ] = None,
    examples: Annotated[int, typer.Option(help="Examples shown per group.")] = 3,
    fail_on_change: Annotated[
        bool, typer.Option(help="Exit 1 if any decision would change (for CI).")
    ] = False,
    data_dir: Annotated[
        str | None,
        typer.Option(
            help="Data directory of the running suite (ROOFLINE_DATA_DIR). Default: .roofline "
            "if a suite runs there, else the one suite `roofline up` registered."
        ),
    ] = None,
) -> None:
    """Re-evaluate recorded decisions under a candidate policy directory; print what changes.

    Reads the decision logs of the running suite (`roofline up`, found as `roofline status`
    finds it), or of ROOFLINE_DATABASE_URL.
    """
    from shared.cli.supervisor import cli_settings
    from shared.policy.engine import PolicyEngine
    from shared.policy.replay import format_report, read_logs
    from shared.policy.replay import replay as replay_decisions

    names = service or list(SERVICES)
    unknown = set(names) - set(SERVICES)
    if unknown:
        raise typer.BadParameter(f"unknown service(s): {', '.join(sorted(unknown))}")
    try:
        start = parse_since(since) if since else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    engine = PolicyEngine(candidate)
    problems = engine.load()
    for problem in problems:
        typer.echo(f"candidate problem: {problem}", err=True)
    if problems:
        typer.echo(
            "the candidate has invalid files (fix them first: roofline policy lint)", err=True
        )
        engine.close()
        raise typer.Exit(2)
    try:
        sources = [cli_settings(name, data_dir) for name in names]
    except SuiteChoiceNeeded as exc:
        engine.close()
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    decisions, warnings = asyncio.run(read_logs(sources, start))
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)
    report = replay_decisions(decisions, engine)
    engine.close()
    for line in format_report(report, examples=examples):
        typer.echo(line)
    raise typer.Exit(1 if fail_on_change and report.changed else 0)


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Print (or write) the JSON Schema of rule files, for editors."""
    from shared.policy.format import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        typer.echo(f"wrote {output}")
