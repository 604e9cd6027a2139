"""The lead slice through HTTP and Kafka, the five services running as processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import jwt
from prometheus_client.parser import text_string_to_metric_families

from shared.contracts.roles import ROLES
from shared.platform.http.auth import mint_token
from shared.platform.settings import load_settings

SERVICES = ("jobs", "tickets", "billing", "messaging", "commissions")


def headers(tenant: str = "acme") -> dict[str, str]:
    token = mint_token(load_settings(), user="sam", tenant=tenant, roles=["sales"])
    return {"Authorization": f"Bearer {token}"}


def test_a_lead_reaches_every_service_and_the_job_shows_four_acknowledgements(
    suite: dict[str, str],
) -> None:
    job = httpx.post(
        f"{suite['jobs']}/jobs",
        headers=headers(),
        json={
            "customer": {"name": "Dana Reyes", "email": "dana@example.com"},
            "address": {"line": "12 Elm St", "city": "Springfield"},
        },
    ).json()
    job_id = job["job_id"]
    deadline = time.monotonic() + 60
    body = job
    while body["awaiting"] and time.monotonic() < deadline:
        time.sleep(0.3)
        body = httpx.get(f"{suite['jobs']}/jobs/{job_id}", headers=headers()).json()
    assert sorted(body["acknowledged_by"]) == ["billing", "commissions", "messaging", "tickets"]

    projections = {
        "billing": f"/finance-folders/{job_id}",
        "messaging": f"/jobs/{job_id}/thread",
        "commissions": f"/jobs/{job_id}/salesman",
        "tickets": f"/customers/{job_id}",
    }
    for service, path in projections.items():
        assert httpx.get(suite[service] + path, headers=headers()).status_code == 200, service
        assert httpx.get(suite[service] + path, headers=headers("globex")).status_code == 404


def test_every_service_exposes_faststream_and_platform_metrics(suite: dict[str, str]) -> None:
    for service in SERVICES:
        names = {
            family.name
            for family in text_string_to_metric_families(
                httpx.get(f"{suite[service]}/metrics").text
            )
        }
        assert "roofline_outbox_backlog" in names, service
        assert "roofline_http_request_duration_seconds" in names, service
        assert any(name.startswith("faststream_") for name in names), service
        spec = httpx.get(f"{suite[service]}/asyncapi.json").json()
        assert spec["asyncapi"].startswith("3."), service
        assert httpx.get(f"{suite[service]}/docs").status_code == 200


def test_roofline_events_shows_what_the_services_published(
    suite: dict[str, str], namespace: str, bootstrap_servers: str, tmp_path: Path
) -> None:
    job = httpx.post(
        f"{suite['jobs']}/jobs",
        headers=headers(),
        json={"customer": {"name": "Watch Me"}, "address": {"line": "1 Event St"}},
    ).json()
    env = {
        **os.environ,
        "ROOFLINE_TOPIC_PREFIX": namespace,
        "ROOFLINE_KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
        "ROOFLINE_DATA_DIR": str(tmp_path),  # no running suite there: the configured broker
    }
    watcher = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared.cli",
            "events",
            "--service",
            "jobs",
            "--from-beginning",
            "--tenant",
            "acme",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[str] = []
    timer = threading.Timer(90, watcher.kill)  # a watcher follows forever: stop it if stuck
    timer.start()
    try:
        assert watcher.stdout is not None
        for line in watcher.stdout:
            seen.append(line)
            if job["job_id"] in line and "jobs.lead_created.v1" in line:
                break
    finally:
        timer.cancel()
        watcher.kill()
        watcher.wait()
    assert job["job_id"] in seen[-1] and "tenant=acme" in seen[-1], seen[-5:]


ANY_ID = "00000000-0000-0000-0000-000000000000"


def token_with(roles: list[str]) -> dict[str, str]:
    """A validly signed token with exactly these roles (unknown ones included: crafted)."""
    settings = load_settings()
    claims = {"sub": "probe", "tenant": "acme", "roles": roles, "iss": settings.jwt_issuer}
    claims["exp"] = int(time.time()) + 600
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), settings.jwt_algorithm)
    return {"Authorization": f"Bearer {token}"}


def answered(client: httpx.Client, method: str, url: str, headers: dict[str, str]) -> int:
    """The status a call gets; the body is not read (a live stream never ends)."""
    with client.stream(method, url, headers=headers, json={}) as response:
        return response.status_code


def test_every_route_of_every_service_admits_exactly_the_roles_it_declares(
    suite: dict[str, str],
) -> None:
    callers = {role: token_with([role]) for role in sorted(ROLES)}
    callers["(no roles)"] = token_with([])
    callers["(unknown role)"] = token_with(["superuser"])
    walked = 0
    with httpx.Client(timeout=30) as client:
        for service, url in suite.items():
            document = client.get(f"{url}/openapi.json").json()
            for path, operations in document["paths"].items():
                for method, operation in operations.items():
                    if path.startswith("/health") or path == "/asyncapi.json":
                        continue
                    concrete = re.sub(r"\{[^}]+\}", ANY_ID, path)
                    if operation.get("x-public"):
                        # Anyone may call it (a survey link, a signed webhook): no token needed,
                        # and what it checks itself refuses a bogus call with neither 401 nor 500.
                        status = answered(client, method, url + concrete, {})
                        assert status not in (401, 500), f"{service} {method} {path}: {status}"
                        continue
                    declared = operation.get("x-roles")
                    assert declared, f"{service} {method.upper()} {path} declares no roles"
                    for who, auth in callers.items():
                        status = answered(client, method, url + concrete, auth)
                        allowed = who in declared
                        assert (status == 403) is not allowed, (
                            f"{service} {method.upper()} {path} as {who}: "
                            f"{status} (declared: {declared})"
                        )
                        assert status != 401
                        walked += 1
    assert walked > 30 * len(callers)
