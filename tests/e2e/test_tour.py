"""The README tour as a newcomer runs it: ``examples/tour.sh`` against the five running services,
a shingle roof from the first call to completed and invoiced, each step answering as the README
shows; and the README shows the script's steps as they are."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "tour.sh"


def test_the_tour_walks_a_job_to_completion(suite: dict[str, str]) -> None:
    env = {
        **os.environ,
        "JOBS": suite["jobs"],
        "BILLING": suite["billing"],
        "ROOFLINE": f"{shlex.quote(sys.executable)} -m shared.cli",
        "PYTHONPATH": str(ROOT),
    }
    run = subprocess.run(
        ["bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    out = run.stdout
    assert run.returncode == 0, out + run.stderr
    assert "missing=['approval by a CSA, production manager or admin']" in out
    assert "milestone=approved  job_number=" in out
    handoff_refused = next(line for line in out.splitlines() if "signed contract" in line)
    for item in ("material manufacturer", "measurements", "property photos (at least 1)"):
        assert item in handoff_refused
    assert re.search(r"schedule production due \d{4}-\d\d-\d\dT", out)
    assert "team.crew_id=" in out
    assert "documents.-1.checklist=post_roof_inspection  documents.-1.uploaded_by=pete" in out
    assert "production_status=complete" in out
    assert "milestone=completed  production_status=complete" in out
    assert "missing=['final payment received']" in out
    assert "tour complete" in out


def test_the_readme_shows_the_tour_script_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- tour.sh -->", 2)[1]
    steps = re.search(r"```sh\n(.*?)```", block, re.S)
    assert steps, "the README's tour block is fenced ```sh"
    assert steps.group(1) in SCRIPT.read_text()
