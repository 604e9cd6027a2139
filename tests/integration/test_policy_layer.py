"""The policy layer inside a real service (jobs) on real PostgreSQL and Kafka: decisions logged
and published in the handler's transaction, deadlines fired by the sweeper, hot reload, readiness,
and explain / replay on the decision log the service wrote."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

from services.jobs import app as jobs_app
from shared.cli.app import app as cli
from shared.contracts.jobs import SubmitToProductionFacts
from shared.platform.service import ServicePlatform
from shared.platform.settings import Settings
from shared.policy.engine import PolicyEngine
from shared.policy.replay import read_logs, replay
from tests.support.harness import (
    create_topics,
    decode,
    eventually,
    metric_value,
    read_topic,
    running,
    settings_for,
)

POLICIES = Path(__file__).resolve().parents[2] / "policies"


@pytest.fixture(scope="module")
def policy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped policies the test may edit while the service runs."""
    directory = tmp_path_factory.mktemp("policies")
    for path in POLICIES.glob("*.yaml"):
        shutil.copy(path, directory / path.name)
    return directory


@pytest.fixture(scope="module")
def settings(
    namespace: str, database_url: str, bootstrap_servers: str, policy_dir: Path
) -> Settings:
    return settings_for(
        "jobs",
        namespace,
        database_url,
        bootstrap_servers,
        policy_dir=policy_dir,
        policy_reload_interval_s=0.2,
        deadline_sweep_interval_s=3600,  # swept by the test, not the background loop
    )


@pytest.fixture(scope="module")
async def jobs(settings: Settings) -> AsyncIterator[ServicePlatform]:
    await create_topics(settings, "jobs", "billing", "messaging", "commissions", "tickets")
    async with running(jobs_app.build(settings).platform) as platform:
        yield platform


def handoff(property_photos: int = 12, signed: bool = True) -> SubmitToProductionFacts:
    return SubmitToProductionFacts.model_validate(
        {
            "job": {"milestone": "approved", "assigned": True, "trades": ["roofing"]},
            "contract": {"signed": signed},
            "materials": {
                "manufacturer": "GAF",
                "product": "Timberline HDZ",
                "colour": "Charcoal",
                "quantity_squares": "32.50",
                "supplier": "ABC Supply",
            },
            "measurements": {"roof_squares": "31"},
            "photos": {"property": property_photos},
        }
    )


async def decide(
    platform: ServicePlatform, facts: SubmitToProductionFacts, subject: str, now: datetime
) -> Any:
    assert platform.policy is not None
    async with platform.uow_factory() as uow:
        decision = await platform.policy.decide(
            uow,
            "jobs.submit_to_production",
            facts,
            tenant="acme",
            subject=subject,
            source="POST /jobs/{id}/handoff",
        )
        if decision.allowed:
            await platform.policy.schedule(uow, decision, subject=subject, now=now)
        await uow.commit()
    return decision


async def rows(platform: ServicePlatform, table: str, subject: str) -> list[Any]:
    async with platform.engine.connect() as connection:
        result = await connection.execute(
            sa.text(f"SELECT * FROM {table} WHERE subject = :s ORDER BY 1"), {"s": subject}
        )
        return list(result.mappings())


# Wednesday before Thanksgiving: 5 US business days later is Thursday 3 December.
HANDED_OFF = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


async def test_the_service_is_ready_with_its_policies(jobs: ServicePlatform) -> None:
    checks = await jobs.readiness()
    assert checks["policies_loaded"] == "ok"
    assert (
        metric_value(
            jobs,
            "roofline_policy_active",
            policy="production_handoff",
            version="1",
            hash=next(
                s.hash
                for s in jobs.policy.engine.active_sets()  # type: ignore[union-attr]
                if s.id == "production_handoff"
            ),
        )
        == 1
    )


async def test_a_decision_is_logged_published_and_its_deadline_stored(
    jobs: ServicePlatform, settings: Settings
) -> None:
    decision = await decide(jobs, handoff(), "job-1", HANDED_OFF)
    assert decision.outcome == "schedule"
    assert decision.allowed

    [logged] = await rows(jobs, "policy_decisions", "job-1")
    assert logged["decision_id"] == decision.decision_id
    assert logged["decision_point"] == "jobs.submit_to_production"
    assert logged["outcome"] == "schedule"
    assert logged["facts"]["materials"]["quantity_squares"] == "32.50"  # exact, not a float
    assert [m["rule"] for m in logged["matched"]] == ["schedule-after-handoff"]
    assert logged["source"] == "POST /jobs/{id}/handoff"
    assert "production_handoff@" in logged["policy_hash"]

    [deadline] = await rows(jobs, "policy_deadlines", "job-1")
    assert deadline["task"] == "schedule production"
    assert deadline["status"] == "open"
    assert deadline["escalate_to"] == "production_manager"
    assert deadline["due_at"].date().isoformat() == "2026-12-03"

    async def published() -> list[dict[str, Any]]:
        records = await read_topic(settings.kafka_bootstrap_servers, settings.own_topic)
        return [
            decode(r)
            for r in records
            if decode(r)["type"] == "policy.decision_made.v1" and r.key == b"job-1"
        ]

    [event] = await eventually(published, what="policy.decision_made.v1 on the topic")
    assert event["data"]["decision_id"] == str(decision.decision_id)
    assert event["data"]["outcome"] == "schedule"
    assert event["tenant_id"] == "acme"
    assert (
        metric_value(
            jobs,
            "roofline_policy_decisions_total",
            policy="production_schedule",
            rule="schedule-after-handoff",
            outcome="schedule",
            enforced="true",
        )
        >= 1
    )


async def test_a_refused_decision_is_logged_without_a_deadline(jobs: ServicePlatform) -> None:
    decision = await decide(jobs, handoff(property_photos=0, signed=False), "job-2", HANDED_OFF)
    assert decision.outcome == "require"
    assert decision.missing == ["signed contract", "property photos (at least 1)"]
    assert len(await rows(jobs, "policy_decisions", "job-2")) == 1
    assert await rows(jobs, "policy_deadlines", "job-2") == []


async def test_a_passed_deadline_escalates_once_and_a_met_one_never(
    jobs: ServicePlatform, settings: Settings
) -> None:
    await decide(jobs, handoff(), "job-3", HANDED_OFF)
    assert jobs.policy is not None
    async with jobs.uow_factory() as uow:
        assert await jobs.policy.meet(
            uow, tenant="acme", subject="job-3", task="schedule production"
        )
        await uow.commit()

    sweeper = jobs.policy.sweeper
    assert await sweeper.sweep(now=datetime(2026, 12, 3, 12, tzinfo=UTC)) == 0  # not due yet
    assert await sweeper.sweep(now=datetime(2026, 12, 4, tzinfo=UTC)) == 1  # job-1's
    assert await sweeper.sweep(now=datetime(2026, 12, 31, tzinfo=UTC)) == 0  # fired once
    assert (await rows(jobs, "policy_deadlines", "job-1"))[0]["status"] == "passed"
    assert (await rows(jobs, "policy_deadlines", "job-3"))[0]["status"] == "met"

    async def escalations() -> list[dict[str, Any]]:
        records = await read_topic(settings.kafka_bootstrap_servers, settings.own_topic)
        return [decode(r) for r in records if decode(r)["type"] == "policy.deadline_passed.v1"]

    [event] = await eventually(escalations, what="policy.deadline_passed.v1 on the topic")
    assert event["subject"] == "job-1"
    assert event["data"]["escalate_to"] == "production_manager"
    assert (
        metric_value(
            jobs,
            "roofline_policy_deadlines_passed_total",
            policy="production_schedule",
            rule="schedule-after-handoff",
            escalate_to="production_manager",
        )
        == 1
    )


async def test_explain_on_logged_facts_gives_the_logged_outcome(
    jobs: ServicePlatform, policy_dir: Path, tmp_path: Path
) -> None:
    [logged] = await rows(jobs, "policy_decisions", "job-2")
    facts_file = tmp_path / "facts.yaml"
    facts_file.write_text(yaml.safe_dump(logged["facts"]))
    result = CliRunner().invoke(
        cli,
        [
            "policy",
            "explain",
            "jobs.submit_to_production",
            "--facts",
            str(facts_file),
            "--policies",
            str(policy_dir),
            "--tenant",
            "acme",
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"outcome: {logged['outcome']}" in result.output
    assert "MATCH production_handoff/contract-signed" in result.output
    assert "failed: materials.colour exists: false (the fact is Charcoal)" in result.output


async def test_replay_shows_what_a_candidate_change_would_do(
    jobs: ServicePlatform,
    settings: Settings,
    policy_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await decide(jobs, handoff(property_photos=4), "job-4", HANDED_OFF)
    candidate = tmp_path / "candidate"
    shutil.copytree(policy_dir, candidate)
    handoff_file = candidate / "production_handoff.yaml"
    # The candidate asks for 5 property photos: job-4 (4 photos) would now be refused.
    handoff_file.write_text(
        handoff_file.read_text().replace(
            "    default: 1\n    description: Property", "    default: 5\n    description: Property"
        )
    )

    engine = PolicyEngine(candidate)
    assert engine.load() == []
    decisions, warnings = await read_logs([settings])
    report = replay(decisions, engine)
    engine.close()
    assert warnings == []
    assert report.total == len(decisions) >= 4
    [changed] = report.changed
    assert changed.recorded.subject == "job-4"
    assert (changed.recorded.outcome, changed.new_outcome) == ("schedule", "require")

    monkeypatch.setenv("ROOFLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ROOFLINE_JOBS__DB_SCHEMA", settings.schema_name)
    # The CLI runs its own event loop: give it a thread.
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["policy", "replay", "--candidate", str(candidate), "--service", "jobs"],
    )
    assert result.exit_code == 0, result.output
    assert f"{report.total} recorded decision(s) replayed: 1 would change" in result.output
    assert "1  jobs.submit_to_production  tenant acme: schedule -> require" in result.output
    assert "subject job-4" in result.output

    unchanged = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        [
            "policy",
            "replay",
            "--candidate",
            str(policy_dir),
            "--service",
            "jobs",
            "--since",
            (HANDED_OFF - timedelta(days=1)).isoformat(),
            "--fail-on-change",
        ],
    )
    assert unchanged.exit_code == 0, unchanged.output
    assert ": 0 would change" in unchanged.output


async def test_hot_reload_refuses_a_broken_file_and_keeps_the_last_good_rules(
    jobs: ServicePlatform, policy_dir: Path
) -> None:
    assert jobs.policy is not None
    path = policy_dir / "line_items.yaml"
    good = path.read_text()
    path.write_text(good.replace("lt: 1}", "lt: one}"))
    try:
        await eventually(
            lambda: _async(metric_value(jobs, "roofline_policy_invalid_files") == 1),
            what="the broken file refused",
        )
        decision = jobs.policy.engine.evaluate(
            "accounting.create_record", {"record": {"kind": "job", "line_items": 0}}, "acme"
        )
        assert decision.outcome == "deny"
        assert (await jobs.readiness())["policies_loaded"] == "ok"

        path.write_text(good.replace("version: 1", "version: 2"))
        await eventually(
            lambda: _async(metric_value(jobs, "roofline_policy_invalid_files") == 0),
            what="the fixed file accepted",
        )
        decision = jobs.policy.engine.evaluate(
            "accounting.create_record", {"record": {"kind": "job", "line_items": 0}}, "acme"
        )
        assert decision.policies[0].version == "2"
    finally:
        path.write_text(good)


async def test_a_service_without_valid_policies_is_not_ready(
    settings: Settings, tmp_path: Path
) -> None:
    empty = tmp_path / "no-policies"
    empty.mkdir()
    platform = jobs_app.build(settings.model_copy(update={"policy_dir": empty})).platform
    await platform.start()
    try:
        checks = await platform.readiness()
    finally:
        await platform.stop()
    assert "no valid policy for jobs.change_job" in checks["policies_loaded"]


async def _async(value: Any) -> Any:
    return value
