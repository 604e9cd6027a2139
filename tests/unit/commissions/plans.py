"""Plan files written for a test: a valid plan with what the test changes."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from services.commissions.plans.loader import LoadedPlan, load_plan_file

HEADER = """\
id: {id}
version: {version}
owners: [sales-director@acme-roofing.example]
description: A plan for a test.
tenant: acme-roofing
effective_from: {effective_from}
"""

EXAMPLE = """\
examples:
  - name: a job
    job: {contract_price: 0, freebie: true}
    expect: {amount: 0}
"""


def plan_text(
    body: str,
    *,
    id: str = "standard",
    version: int = 1,
    effective_from: str = "2026-01-01",
    examples: str = EXAMPLE,
) -> str:
    header = HEADER.format(id=id, version=version, effective_from=effective_from)
    return header + dedent(body) + examples


def write_plan(path: Path, body: str, **kwargs: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(plan_text(body, **kwargs))  # type: ignore[arg-type]
    return path


def a_plan(tmp_path: Path, body: str, **kwargs: object) -> LoadedPlan:
    return load_plan_file(write_plan(tmp_path / "plan.yaml", body, **kwargs))
