"""The README tour as a newcomer runs it: ``examples/tour.sh`` against the five running services,
a shingle roof from the first call to paid and closed, each step answering as the README shows;
and the README shows the script's steps as they are."""

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
        "MESSAGING": suite["messaging"],
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
    # The installer portal: Ivan sees the job, reads Pat's message; Pat sees when.
    assert "property_address=12 Elm St" in out
    assert "seq=1  author_id=pat" in out and "attachments.0.name=site.jpg" in out
    assert "  total=1" in out and "  marked=1" in out
    assert re.search(r"0\.user_id=ivan  0\.read_at=\S+  0\.client_read_at=\d{4}-", out)
    assert "documents.-1.checklist=post_roof_inspection  documents.-1.uploaded_by=pete" in out
    assert "production_status=complete" in out
    assert "milestone=completed  production_status=complete" in out
    assert "contact_email=dana@example.com  send_at=" in out
    # The invoice: numbered, billing the line item; sent, the job is Invoiced.
    assert re.search(
        r"number=INV-\d{4}-\d{4}  bill_to=Dana Reyes  lines\.0\.description=Architectural", out
    )
    assert re.search(r"number=INV-\d{4}-\d{4}  status=sent", out)
    assert "\n  milestone=invoiced\n" in out
    assert "missing=['final payment received', 'all expenses entered and paid']" in out
    # The costs settled in billing, the final payment: the balance derived, the check recorded,
    # the job released and closed by jobs on billing's facts.
    assert "total=5120.00  paid=5120.00  unpaid=0.00" in out
    assert "entered=True  settled=True" in out
    assert "contract_price=12480.00  payments=0.00  balance=12480.00" in out
    assert (
        "record.kind=payment  record.amount=12480.00  record.method=check  balance.balance=0.00"
        in out
    )
    assert "milestone=closed  production_status=released  history.-1.by=billing" in out
    assert "tour complete" in out


def test_the_readme_shows_the_tour_script_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- tour.sh -->", 2)[1]
    steps = re.search(r"```sh\n(.*?)```", block, re.S)
    assert steps, "the README's tour block is fenced ```sh"
    assert steps.group(1) in SCRIPT.read_text()
