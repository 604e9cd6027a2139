"""`roofline up` as a user runs it: five processes, status, a lead through HTTP, a killed
service that comes back, and a clean Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from shared.cli.embedded import port_open
from shared.platform.http.auth import mint_token
from shared.platform.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("ROOFLINE_TEST_DATABASE_URL")), reason="runs the embedded default"
)


def roofline(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # run from elsewhere: still this tree
    return subprocess.run(
        [sys.executable, "-m", "shared.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def wait_for(check, timeout: float = 120.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def status(data_dir: Path) -> dict | None:
    result = roofline("status", "--data-dir", str(data_dir), "--json")
    return json.loads(result.stdout) if result.returncode == 0 else None


def create_lead(urls: dict[str, str], headers: dict[str, str]) -> dict:
    return httpx.post(
        f"{urls['jobs']}/jobs",
        headers=headers,
        json={"customer": {"name": "Dana Reyes"}, "address": {"line": "12 Elm St"}},
    ).json()


def answered(urls: dict[str, str], headers: dict[str, str], job: dict, what: str) -> dict:
    """The job once no service is awaited any more (every other service answered the lead)."""

    def acknowledged() -> dict | None:
        body = httpx.get(f"{urls['jobs']}/jobs/{job['job_id']}", headers=headers).json()
        return body if not body["awaiting"] else None

    return wait_for(acknowledged, what=what)


def test_up_runs_the_suite_and_stops_cleanly(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("ROOFLINE_DATABASE_URL", "ROOFLINE_KAFKA_BOOTSTRAP_SERVERS")
    }
    up = subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "up", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        report = wait_for(lambda: status(tmp_path), what="all five services ready")
        assert sorted(s["name"] for s in report["services"]) == sorted(
            ["jobs", "tickets", "billing", "messaging", "commissions"]
        )
        assert report["kafka_bootstrap_servers"].startswith("127.0.0.1:")
        database = sa.make_url(report["database_url"])
        assert (database.database, database.password) == ("roofline", None)  # no secret shown
        urls = {s["name"]: s["url"] for s in report["services"]}

        # `roofline status` with no flags, from a directory with no suite of its own, finds this
        # one (started with --data-dir) through the registry of running suites.
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        plain = roofline("status", cwd=elsewhere)
        assert plain.returncode == 0, plain.stdout + plain.stderr
        assert str(tmp_path.resolve()) in plain.stdout and "not running" not in plain.stdout
        found = json.loads(roofline("status", "--json", cwd=elsewhere).stdout)
        assert {s["name"]: s["url"] for s in found["services"]} == urls
        token = mint_token(load_settings(), user="sam", tenant="acme", roles=["sales"])
        headers = {"Authorization": f"Bearer {token}"}

        metrics = httpx.get(f"{urls['billing']}/metrics").text
        assert "roofline_outbox_backlog" in metrics and "faststream_" in metrics

        # Kill billing; create a lead while it is down; it comes back and applies it.
        billing_pid = next(s["pid"] for s in report["services"] if s["name"] == "billing")
        os.kill(billing_pid, signal.SIGKILL)
        job = create_lead(urls, headers)
        body = answered(urls, headers, job, "all four services, billing restarted, to answer")
        assert sorted(body["acknowledged_by"]) == ["billing", "commissions", "messaging", "tickets"]
        after = wait_for(lambda: status(tmp_path), what="billing ready again")
        assert next(s["pid"] for s in after["services"] if s["name"] == "billing") != billing_pid
    finally:
        up.send_signal(signal.SIGINT)
        output, _ = up.communicate(timeout=60)
    assert "billing exited" in output
    assert up.returncode == 0, output
    ports = [int(url.rsplit(":", 1)[1]) for url in urls.values()]
    ports.append(int(report["kafka_bootstrap_servers"].rsplit(":", 1)[1]))
    assert not [p for p in ports if port_open("127.0.0.1", p)]
    assert status(tmp_path) is None
    stopped = roofline("status", cwd=elsewhere)  # unregistered on stop
    assert stopped.returncode == 1 and "not running" in stopped.stdout
