"""Commissions benchmark: recompute a year for 50 salesmen and 20,000 released jobs.

    make bench-commissions    # or: python -m bench.commissions --salesmen 50 --jobs 20000

A year of released jobs (one salesman each, contracts of 5,000-40,000.00, costs, a change order on
one in five) is kept through the commissions tables; then ``POST /recompute``'s handler tries the
shipped standard plan (tiers by monthly volume) as a candidate over the year. Printed: its time
and peak memory (tracemalloc), split into reading the books and evaluating, beside the same run's
plain-Python evaluation of the same plan (the rate and tiers written out by hand over the same
figures), and the ratio (goal: within 2x). Uses an embedded PostgreSQL unless
ROOFLINE_TEST_DATABASE_URL names one. Numbers, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import sqlalchemy as sa

from bench.bus import postgres, say
from services.commissions import app as commissions_app
from services.commissions.domain.activity import ActivityRecord, CommissionJob, Share
from services.commissions.domain.figures import JobFigures
from services.commissions.handlers.recompute import recompute
from services.commissions.plans import evaluate, parse_plan
from services.commissions.tables import commission_jobs, released_activity
from shared.platform.http.auth import Caller
from shared.platform.settings import load_settings
from shared.platform.storage.db import create_schema

TENANT = "acme-roofing"
PLAN = Path(__file__).resolve().parents[1] / "commission_plans" / TENANT / "standard-v2.yaml"
CENT = Decimal("0.01")


def seed(salesmen: int, jobs: int) -> tuple[list[CommissionJob], list[ActivityRecord]]:
    rng = random.Random(7)
    kept, records = [], []
    start = date(2026, 1, 1)
    for n in range(jobs):
        salesman = f"rep-{n % salesmen:02d}"
        price = Decimal(rng.randrange(500_000, 4_000_000)) / 100
        change = Decimal(rng.randrange(-50_000, 150_000)) / 100 if n % 5 == 0 else Decimal("0")
        released_on = start + timedelta(days=rng.randrange(365))
        figures = JobFigures(
            job_id=f"job-{n:05d}",
            contract_price=price,
            change_orders=change,
            costs=(price * Decimal("0.6")).quantize(CENT),
            approved_on=released_on - timedelta(days=30),
        )
        job = CommissionJob(
            figures=figures,
            shares=(Share(salesman_id=salesman, percent=Decimal(100)),),
            released_on=released_on,
        )
        kept.append(job)
        records.append(
            ActivityRecord(
                record_id=str(uuid.uuid4()),
                job_id=figures.job_id,
                salesman_id=salesman,
                kind="released",
                effective_on=released_on,
                amount=(figures.contract_total * Decimal("0.06")).quantize(CENT),
                due=(figures.contract_total * Decimal("0.06")).quantize(CENT),
                volume=figures.contract_total,
                share=Decimal(100),
                notes="final payment received",
                by="commissions",
                recorded_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
            )
        )
    return kept, records


def by_hand(records: list[ActivityRecord], jobs: dict[str, CommissionJob]) -> Decimal:
    """The standard plan written out in plain Python: 6%, 8% from 50,000.00 of the month's
    volume, 9% from 100,000.00, half up to the cent."""
    volume: dict[tuple[str, int, int], Decimal] = {}
    total = Decimal("0.00")
    for r in sorted(records, key=lambda r: (r.effective_on, r.recorded_at, r.record_id)):
        key = (r.salesman_id, r.effective_on.year, r.effective_on.month)
        volume[key] = volume.get(key, Decimal("0.00")) + r.volume
        v = volume[key]
        rate = Decimal(9) if v >= 100_000 else Decimal(8) if v >= 50_000 else Decimal(6)
        base = jobs[r.job_id].figures.contract_total
        total += (max(base, Decimal(0)) * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return total


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp, postgres(Path(tmp)) as db:
        settings = load_settings(
            "commissions",
            database_url=db.url,
            kafka_bootstrap_servers="127.0.0.1:9",
            db_schema=f"bench_{uuid.uuid4().hex[:8]}",
        )
        service = commissions_app.build(settings)
        engine = service.platform.engine
        await create_schema(engine, settings.schema_name, service.platform.metadata)
        jobs, records = seed(args.salesmen, args.jobs)
        began = time.perf_counter()
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(commission_jobs),
                [
                    {"tenant_id": TENANT, "job_id": j.job_id, "data": j.model_dump(mode="json")}
                    for j in jobs
                ],
            )
            await conn.execute(
                sa.insert(released_activity),
                [
                    {
                        "tenant_id": TENANT,
                        "record_id": r.record_id,
                        "job_id": r.job_id,
                        "salesman_id": r.salesman_id,
                        "kind": r.kind,
                        "effective_on": r.effective_on,
                        "amount": r.amount,
                        "volume": r.volume,
                        "data": r.model_dump(mode="json"),
                        "recorded_at": r.recorded_at,
                    }
                    for r in records
                ],
            )
            await conn.execute(sa.text("ANALYZE"))
        say(
            f"seeded {args.jobs:,} released jobs of {args.salesmen} salesmen over 2026 in "
            f"{time.perf_counter() - began:.1f} s"
        )
        content = PLAN.read_bytes().replace(b"version: 2", b"version: 3")
        caller = Caller(user_id="max", tenant_id=TENANT, roles=["billing_manager"])
        by_job = {j.job_id: j for j in jobs}
        candidate = parse_plan(content, "candidate")
        for round_ in range(1, args.rounds + 1):
            began = time.perf_counter()
            found = await recompute(
                service.deps, caller, content, date(2026, 1, 1), date(2027, 1, 1)
            )
            whole = time.perf_counter() - began
            tracemalloc.start()  # apart: tracing slows every allocation
            await recompute(service.deps, caller, content, date(2026, 1, 1), date(2027, 1, 1))
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            began = time.perf_counter()
            for r in records:
                evaluate(candidate, by_job[r.job_id].figures, r.volume)
            evaluating = time.perf_counter() - began
            began = time.perf_counter()
            reference = by_hand(records, by_job)
            hand = time.perf_counter() - began
            say(
                f"  round {round_}: recompute {whole:.2f} s (peak {peak / 2**20:.0f} MiB; "
                f"{len(found.jobs):,} jobs, candidate total {found.candidate}); the plan's "
                f"evaluation alone {evaluating:.2f} s; by hand {hand:.2f} s (total {reference}); "
                f"recompute/by hand {whole / hand:.1f}x, "
                f"evaluation/by hand {evaluating / hand:.1f}x"
            )
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--salesmen", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
