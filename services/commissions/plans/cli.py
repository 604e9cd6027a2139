"""``python -m services.commissions.plans lint | test | schema`` (installed as ``roofline-plans``):
the plan owner's tools, like ``roofline policy``.

Not a ``roofline`` subcommand: the ``roofline`` command lives in ``shared``, and shared code
imports no service (the import contracts in pyproject.toml)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Check, test and describe the commission plan files in commission_plans/.",
    no_args_is_help=True,
)

DEFAULT_DIRECTORY = Path("commission_plans")
PathArgument = Annotated[
    Path,
    typer.Argument(help="The plans folder, a tenant's folder, or one file."),
]


@app.command()
def lint(path: PathArgument = DEFAULT_DIRECTORY) -> None:
    """Validate plan files: YAML, format, examples, versions and assignments."""
    from services.commissions.plans.loader import read_plans

    loaded = read_plans(path)
    for problem in loaded.problems:
        typer.echo(str(problem), err=True)
    examples = sum(len(plan.spec.examples) for plan in loaded.plans)
    files = len({problem.file for problem in loaded.problems})
    typer.echo(
        f"{len(loaded.plans)} valid plan file(s), {examples} example(s); {files} file(s) refused"
    )
    raise typer.Exit(1 if loaded.problems else 0)


@app.command("test")
def test_command(path: PathArgument = DEFAULT_DIRECTORY) -> None:
    """Run every plan's examples; name each failing one with its file and line."""
    from services.commissions.plans.loader import (
        PlanFileInvalid,
        book_problems,
        load_plan_file,
        plan_files,
        run_examples,
        tenant_folder,
    )

    files = plan_files(path)
    if not files:
        typer.echo(f"{path}: no plan files (*.yaml)", err=True)
        raise typer.Exit(1)
    passed = failed = invalid = 0
    plans = []
    for file in files:
        try:
            loaded = load_plan_file(
                file, check_examples=False, tenant_folder=tenant_folder(path, file)
            )
        except PlanFileInvalid as exc:
            invalid += 1
            typer.echo(f"{file}: INVALID")
            for problem in exc.problems:
                typer.echo(f"  {problem}")
            continue
        plans.append(loaded)
        typer.echo(f"{file} ({loaded.id} v{loaded.version}, {loaded.hash})")
        for result in run_examples(loaded):
            if result.passed:
                passed += 1
                typer.echo(f"  pass {result.example}")
            else:
                failed += 1
                typer.echo(f"  FAIL {file}:{result.line}: '{result.example}': {result.detail}")
    together = book_problems(plans)
    for problem in together:
        typer.echo(f"{problem}")
    typer.echo(
        f"{passed} example(s) passed, {failed} failed, {invalid} file(s) invalid"
        + (f", {len(together)} problem(s) across files" if together else "")
    )
    raise typer.Exit(1 if failed or invalid or together else 0)


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Print (or write) the JSON Schema of plan files, for editors."""
    from services.commissions.plans.format import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        typer.echo(f"wrote {output}")


def main() -> None:
    app()
