"""Messaging benchmark: the installer portal's reads under load beside a bare floor, and emails
drained to the local SMTP server.

    make bench-messaging    # or: python -m bench.messaging --messages 10000 --threads 500 \
                            #       --users 200 --requests 3000 --concurrency 10 --emails 2000

(a) seed: ``--threads`` job threads and ``--users`` users (a fifth office staff, the rest
    installers); each thread followed by 2 office users and worked by 4 installers; ``--messages``
    messages spread over the threads (a few busy ones, a long tail), each by one of its thread's
    participants; each participant has read a prefix of the thread (``read_up_to`` and a read
    receipt per message by others up to it). Written in bulk into the service's own tables
    (``last_seq`` and ``last_message_at`` kept with the messages), then ANALYZEd. Not timed.
(b) reads under load: the real service (its composition root served by uvicorn in a process of
    its own, as ``roofline up`` serves it: consumer, relay and background rounds running) and a
    bare app (FastAPI and an asyncpg pool in another uvicorn process: no SQLAlchemy, no auth, no
    middleware) answering the same reads with the same SQL semantics. Both over HTTP on
    127.0.0.1, driven from this process by ``--concurrency`` httpx workers sending the same random
    requests to each side (the real one with each user's bearer token):
      GET /unread                          a user's unread counts per thread (threads_of's query)
      GET /threads/{id}/messages?limit=50  a thread's latest page, as one of its participants
      GET /health/live vs GET /ping        no database: the HTTP and client floor both share
    The answers of both sides are compared on a sample first. Each endpoint is warmed up, then
    run ``--rounds`` times a side, alternating which side goes first. Printed: p50 and p99 ms and
    requests/s each side, ``roofline/bare`` ratios, and the cores each process kept busy, as CPU
    time a request too. The client is httpx: it needs 1-2 ms of CPU a request, more than the
    bare server, so on a small machine the bare side's latency is mostly the client's, which
    narrows the latency ratio; the servers' CPU a request is the figure the client does not
    bound. Before that, the round trips to the database each read makes in the service.
(c) emails: ``--emails`` emails queued (``NoticeRepository.queue``, as a message alert queues
    them), then drained by the worker's rounds (``send_due``) back to back into the local SMTP
    sink (``roofline up``'s, shared/cli/mail_sink.py, in a process of its own): emails/s from the
    first round until the last is recorded sent, and the count the sink kept. Then
    ``--paced-emails`` more as the service runs its rounds (its background loop: back to back
    while a round fills its batch, else one every email_send_interval_s):
    emails/s, the rate a running service drains at. The embedded PostgreSQL runs without fsync
    (``bench.bus.postgres``): each email's commits cost more on a durable one.

``--explain`` adds the SQL of each read (and of the gauges' refresh) with its EXPLAIN ANALYZE.

Uses embedded PostgreSQL and Tansu unless ROOFLINE_TEST_DATABASE_URL /
ROOFLINE_TEST_KAFKA_BOOTSTRAP_SERVERS name others. Numbers, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from bench.bus import CLOCK_TICKS, Bus, cores_busy, cpu_seconds, postgres, say, table, tansu
from services.messaging import app as messaging_app
from services.messaging.domain.email import OutgoingEmail
from services.messaging.domain.threads import NewMessage
from services.messaging.handlers import messages
from services.messaging.handlers.email_worker import send_due
from services.messaging.handlers.gauges import refresh_gauges
from services.messaging.ports import MessagingDeps
from shared.cli.embedded import free_port
from shared.cli.mail_sink import MailSink, count_mailbox
from shared.platform.http.auth import Caller, mint_token
from shared.platform.messaging.broker import all_topics
from shared.platform.service import Service, tune_garbage_collector
from shared.platform.settings import Settings
from shared.platform.storage.db import asyncpg_dsn, create_schema, drop_schema

ROOT = Path(__file__).resolve().parents[1]
TENANT = "bench"
PAGE = messages.PAGE_LIMIT  # the page the portal asks for: 50
OFFICE_PER_THREAD, FIELD_PER_THREAD = 2, 4
OFFICE_ROLE, FIELD_ROLE = "production_manager", "installer"
PHRASES = (
    "Ridge vent arrives Monday.",
    "Tear-off done on the north slope.",
    "Found a soft spot in the decking by the chimney, photos attached.",
    "Customer asked about the colour again: Charcoal, confirmed.",
    "Dumpster is in the driveway.",
    "Rain tomorrow, moved to Thursday.",
    "Please confirm the permit inspection time.",
    "Squares delivered, short two bundles of starter.",
    "Ice-and-water in the valleys, underlayment going on now.",
    "Cleaned up and ran the magnet sweep.",
    "Skylight flashing needs a new kit.",
    "On my way.",
)


# -- (a) the seed ---------------------------------------------------------------------------------


@dataclass
class World:
    """What was seeded, for picking requests: who is on which thread, in which role."""

    office: list[str]
    installers: list[str]
    members: dict[str, list[str]]  # thread id -> its participants
    sizes: dict[str, int]  # thread id -> its messages
    reads: int = 0

    def is_office(self, user: str) -> bool:
        return user.startswith("office-")


def thread_weights(count: int, rng: random.Random) -> list[float]:
    """Zipf-like activity (s = 0.8), the busy threads scattered."""
    weights = [1 / (rank + 1) ** 0.8 for rank in range(count)]
    rng.shuffle(weights)
    return weights


async def seed(
    dsn: str, schema: str, *, threads: int, users: int, count: int, rng: random.Random
) -> World:
    offices = max(1, users // 5)
    office = [f"office-{n:03d}" for n in range(offices)]
    field_users = [f"installer-{n:03d}" for n in range(max(1, users - offices))]
    now = datetime.now(UTC)
    thread_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(threads)]
    members = {
        thread_id: [
            *rng.sample(office, min(OFFICE_PER_THREAD, len(office))),
            *rng.sample(field_users, min(FIELD_PER_THREAD, len(field_users))),
        ]
        for thread_id in thread_ids
    }
    sizes = Counter(rng.choices(thread_ids, thread_weights(threads, rng), k=count))
    thread_rows, participant_rows, message_rows, read_rows = [], [], [], []
    for n, thread_id in enumerate(thread_ids):
        size = sizes.get(thread_id, 0)
        opened = now - timedelta(days=30, minutes=rng.randrange(600))
        # Its messages over the month since, in order.
        times = sorted(
            opened + timedelta(seconds=rng.randrange(1, 30 * 86400)) for _ in range(size)
        )
        authors = [rng.choice(members[thread_id]) for _ in range(size)]
        for seq, (at, author) in enumerate(zip(times, authors, strict=True), start=1):
            photo = rng.random() < 0.1
            attachments = [
                {
                    "name": f"photo-{seq}.jpg",
                    "content_type": "image/jpeg",
                    "size_bytes": rng.randrange(100_000, 4_000_000),
                    "location": f"s3://{TENANT}/{thread_id}/photo-{seq}.jpg",
                }
            ]
            message_rows.append(
                (
                    TENANT,
                    thread_id,
                    seq,
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    author,
                    " ".join(rng.choices(PHRASES, k=rng.randint(1, 6))),
                    json.dumps(attachments if photo else []),
                    None,
                    at,
                )
            )
        thread_rows.append(
            (
                TENANT,
                thread_id,
                "job",
                f"job-{n:05d}",
                f"Customer {n}, {n + 1} Elm St",
                members[thread_id][0],
                opened,
                size,
                times[-1] if times else None,
            )
        )
        for user in members[thread_id]:
            # Many have read all of it, many part of it, a few none of it.
            draw = rng.random()
            read_up_to = size if draw < 0.4 else 0 if draw > 0.9 else rng.randint(0, size)
            role = "office" if user in office else "field"
            participant_rows.append((TENANT, thread_id, user, role, True, read_up_to, opened))
            for seq in range(1, read_up_to + 1):
                if authors[seq - 1] != user:
                    read_at = min(now, times[seq - 1] + timedelta(minutes=rng.randrange(1, 600)))
                    client_at = read_at - timedelta(seconds=rng.randrange(0, 5))
                    read_rows.append((TENANT, thread_id, seq, user, read_at, client_at))
    connection = await asyncpg.connect(dsn)
    try:
        copy = [
            (
                "message_threads",
                thread_rows,
                (
                    "tenant_id",
                    "thread_id",
                    "kind",
                    "subject_id",
                    "title",
                    "opened_by",
                    "opened_at",
                    "last_seq",
                    "last_message_at",
                ),
            ),
            (
                "thread_participants",
                participant_rows,
                ("tenant_id", "thread_id", "user_id", "role", "active", "read_up_to", "joined_at"),
            ),
            (
                "messages",
                message_rows,
                (
                    "tenant_id",
                    "thread_id",
                    "seq",
                    "message_id",
                    "author_id",
                    "body",
                    "attachments",
                    "client_key",
                    "posted_at",
                ),
            ),
            (
                "message_reads",
                read_rows,
                ("tenant_id", "thread_id", "seq", "user_id", "read_at", "client_read_at"),
            ),
        ]
        for name, rows, columns in copy:
            await connection.copy_records_to_table(
                name, records=rows, columns=columns, schema_name=schema
            )
        await connection.execute(f'ANALYZE "{schema}".message_threads, "{schema}".messages')
        await connection.execute(
            f'ANALYZE "{schema}".thread_participants, "{schema}".message_reads'
        )
    finally:
        await connection.close()
    return World(office, field_users, members, dict(sizes), len(read_rows))


# -- (b) the bare app -----------------------------------------------------------------------------

# The same semantics as ThreadRepository.threads_of (active participant threads, latest activity
# first, each with the count of messages by others after the user's place) and .page (the latest
# ``limit`` messages, oldest first), selecting only what the answers carry.
UNREAD_SQL = """
SELECT t.thread_id,
       (SELECT count(*) FROM messages m
         WHERE m.tenant_id = t.tenant_id AND m.thread_id = t.thread_id
           AND m.seq > p.read_up_to AND m.author_id <> p.user_id) AS unread
FROM message_threads t
JOIN thread_participants p ON p.tenant_id = t.tenant_id AND p.thread_id = t.thread_id
WHERE t.tenant_id = $1 AND p.user_id = $2 AND p.active
ORDER BY t.last_message_at DESC NULLS LAST, t.thread_id
"""
PAGE_SQL = """
SELECT thread_id, seq, message_id, author_id, body, attachments, posted_at
FROM messages WHERE tenant_id = $1 AND thread_id = $2
ORDER BY seq DESC LIMIT $3
"""


def bare_app() -> FastAPI:
    """The floor (served by uvicorn with --factory): FastAPI and an asyncpg pool, the caller
    named in the query string. ``BENCH_DATABASE_URL``, ``BENCH_SCHEMA``, ``BENCH_POOL_SIZE``."""
    dsn, schema = os.environ["BENCH_DATABASE_URL"], os.environ["BENCH_SCHEMA"]
    size = int(os.environ.get("BENCH_POOL_SIZE", "10"))
    pools: list[asyncpg.Pool] = []

    async def jsonb(connection: asyncpg.Connection) -> None:
        await connection.set_type_codec(
            "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # As many connections as the service's engine may open (pool_size + max_overflow).
        pool = await asyncpg.create_pool(
            dsn,
            min_size=size,
            max_size=2 * size,
            init=jsonb,
            server_settings={"search_path": schema},
        )
        pools.append(pool)
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/unread")
    async def unread(tenant: str, user: str) -> dict[str, object]:
        rows = await pools[0].fetch(UNREAD_SQL, tenant, user)
        per_thread = {row["thread_id"]: row["unread"] for row in rows if row["unread"]}
        return {"total": sum(per_thread.values()), "threads": per_thread}

    @app.get("/threads/{thread_id}/messages")
    async def page(thread_id: str, tenant: str, limit: int = PAGE) -> list[dict[str, Any]]:
        rows = await pools[0].fetch(PAGE_SQL, tenant, thread_id, limit)
        return [dict(row) for row in reversed(rows)]

    return app


# -- servers --------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def uvicorn(factory: str, env: Mapping[str, str], log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                factory,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return process, port


async def wait_ok(server: Server, path: str, timeout: float = 120) -> None:
    deadline = time.perf_counter() + timeout
    async with httpx.AsyncClient(base_url=server.url, timeout=2) as client:
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(f"{server.name} exited; see {server.log}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(path)).status_code == 200:
                    return
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{server.name} not ready in {timeout:.0f} s; see {server.log}")
            await asyncio.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.asynccontextmanager
async def servers(bus: Bus, ns: str, tmp: Path) -> AsyncIterator[tuple[Server, Server]]:
    """The messaging service as ``roofline up`` runs it, and the bare app."""
    async with service_and_bare(bus, bus.settings("messaging", ns), "bench.messaging", tmp) as both:
        yield both


@contextlib.asynccontextmanager
async def service_and_bare(
    bus: Bus, settings: Settings, bench_module: str, tmp: Path
) -> AsyncIterator[tuple[Server, Server]]:
    """The service of ``settings`` as ``roofline up`` runs it (its settings from
    ``ROOFLINE_*``), and ``bench_module``'s ``bare_app`` on the same schema, each in its own
    uvicorn process."""
    service = settings.service
    env = {
        f"ROOFLINE_{key.upper()}": str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in bus.overrides.items()
    }
    env |= {
        "ROOFLINE_DATABASE_URL": bus.database_url,
        "ROOFLINE_KAFKA_BOOTSTRAP_SERVERS": bus.bootstrap,
        "ROOFLINE_TOPIC_PREFIX": settings.topic_prefix,
        f"ROOFLINE_{service.upper()}__DB_SCHEMA": settings.schema_name,
    }
    process, port = uvicorn(f"services.{service}.app:create_app", env, tmp / "roofline.log")
    roofline = Server("roofline", f"http://127.0.0.1:{port}", process, tmp / "roofline.log")
    bare_env = {
        "BENCH_DATABASE_URL": asyncpg_dsn(bus.database_url),
        "BENCH_SCHEMA": settings.schema_name,
        "BENCH_POOL_SIZE": str(settings.db_pool_size),
    }
    process, port = uvicorn(f"{bench_module}:bare_app", bare_env, tmp / "bare.log")
    bare = Server("bare", f"http://127.0.0.1:{port}", process, tmp / "bare.log")
    try:
        began = time.perf_counter()
        await wait_ok(roofline, "/health/ready")
        await wait_ok(bare, "/ping")
        say(
            f"servers up in {time.perf_counter() - began:.1f} s: roofline {roofline.url}, "
            f"bare {bare.url} (logs in {tmp})"
        )
        yield roofline, bare
    finally:
        stop(roofline.process)
        stop(bare.process)


# -- load -----------------------------------------------------------------------------------------

Request = tuple[str, Mapping[str, str]]  # path, headers


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: Counter[int] = field(default_factory=Counter)  # status codes other than 200
    seconds: float = 0.0  # wall time of the runs
    cpu: list[dict[str, float]] = field(default_factory=list)  # cores busy, per run
    cpu_seconds: Counter[str] = field(default_factory=Counter)  # CPU time used, by process kind

    def add(self, other: Sample) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.seconds += other.seconds
        self.cpu += other.cpu
        self.cpu_seconds.update(other.cpu_seconds)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def cpu_ms(self, kind: str) -> float:
        """CPU time a request, ms, of one kind of process (server, postgres, client)."""
        return self.cpu_seconds[kind] / len(self.latencies) * 1000 if self.latencies else 0.0

    def cores(self) -> dict[str, float]:
        kinds = {kind for run in self.cpu for kind in run}
        return {k: statistics.mean(run.get(k, 0.0) for run in self.cpu) for k in sorted(kinds)}


def cpu_used(kinds: Mapping[int, str]) -> dict[str, float]:
    """``bench.bus.cpu_seconds``, plus what the named processes' children used before they
    exited (a process's cutime and cstime): PostgreSQL's backends that come and go meanwhile
    (the service's pool closes its overflow connections) would otherwise take their CPU with
    them."""
    used = cpu_seconds(kinds)
    for pid, kind in kinds.items():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        after_name = stat[stat.rindex(")") + 2 :].split()  # from field 3, the state
        used[kind] = used.get(kind, 0.0) + (int(after_name[13]) + int(after_name[14])) / CLOCK_TICKS
    return used


async def drive(
    client: httpx.AsyncClient,
    requests: Sequence[Request],
    concurrency: int,
    kinds: Mapping[int, str] | None = None,
) -> Sample:
    """``requests`` sent by ``concurrency`` workers, each taking the next as soon as its last is
    answered (a closed loop); each request's time from sending to its body read."""
    sample = Sample()
    pending = iter(requests)

    async def worker() -> None:
        for path, headers in pending:
            began = time.perf_counter()
            response = await client.get(path, headers=headers)
            sample.latencies.append(time.perf_counter() - began)
            if response.status_code != 200:
                sample.errors[response.status_code] += 1

    cpu_before, began = cpu_used(kinds or {}), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    sample.seconds = time.perf_counter() - began
    if kinds:
        cores = cores_busy(cpu_before, cpu_used(kinds), sample.seconds)
        sample.cpu.append(cores)
        sample.cpu_seconds.update({k: v * sample.seconds for k, v in cores.items()})
    return sample


@dataclass(frozen=True)
class Endpoint:
    name: str
    what: str
    # (random, world) -> the roofline request and the bare request for the same rows
    pick: Callable[[random.Random, World], tuple[Request, Request]]


def endpoints(settings_tokens: Mapping[str, Mapping[str, str]]) -> list[Endpoint]:
    def unread(rng: random.Random, world: World) -> tuple[Request, Request]:
        user = rng.choice(world.office + world.installers)
        return ("/unread", settings_tokens[user]), (f"/unread?tenant={TENANT}&user={user}", {})

    def page(rng: random.Random, world: World) -> tuple[Request, Request]:
        thread = rng.choice(list(world.members))
        user = rng.choice(world.members[thread])
        path = f"/threads/{thread}/messages?limit={PAGE}"
        return (path, settings_tokens[user]), (f"{path}&tenant={TENANT}", {})

    def live(rng: random.Random, world: World) -> tuple[Request, Request]:
        return ("/health/live", {}), ("/ping", {})

    return [
        Endpoint("unread", "GET /unread: a user's unread counts per thread", unread),
        Endpoint("page", f"GET /threads/{{id}}/messages?limit={PAGE}: the latest page", page),
        Endpoint("no-db", "GET /health/live vs /ping: no database, the HTTP floor", live),
    ]


def same_page(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    def normal(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**m, "posted_at": datetime.fromisoformat(m["posted_at"])} for m in messages]

    return normal(a) == normal(b)


async def compare(
    clients: Mapping[str, httpx.AsyncClient], points: Sequence[Endpoint], world: World, n: int
) -> None:
    """The same answers on both sides, on ``n`` random requests of each endpoint."""
    rng = random.Random(7)
    results = []
    for point in points[:2]:
        same = 0
        for _ in range(n):
            (r_path, r_headers), (b_path, b_headers) = point.pick(rng, world)
            ours = await clients["roofline"].get(r_path, headers=r_headers)
            bare = await clients["bare"].get(b_path, headers=b_headers)
            if ours.status_code == bare.status_code == 200:
                a, b = ours.json(), bare.json()
                same += a == b if point.name == "unread" else same_page(a, b)
        results.append(f"{point.name} {same}/{n}")
    say(f"the same answers on both sides: {', '.join(results)}")


def stats_line(sample: Sample) -> str:
    errors = (
        f", {sum(sample.errors.values())} errors {dict(sample.errors)}" if sample.errors else ""
    )
    return (
        f"p50 {sample.percentile(0.5):6.1f} ms, p99 {sample.percentile(0.99):6.1f} ms, "
        f"{sample.rate:6,.0f}/s{errors}"
    )


def cores_line(sample: Sample) -> str:
    cores = sample.cores()
    if not cores:
        return ""
    kinds = ", ".join(f"{k} {v:.2f}" for k, v in cores.items() if k not in {"busy", "other"})
    return (
        f"cores busy {cores.get('busy', 0):.2f} ({kinds}); CPU a request: server "
        f"{sample.cpu_ms('server'):.2f} ms, postgres {sample.cpu_ms('postgres'):.2f} ms, "
        f"client {sample.cpu_ms('client'):.2f} ms"
    )


async def reads_under_load(
    clients: Mapping[str, httpx.AsyncClient],
    pids: Mapping[str, int],
    db_pids: Mapping[int, str],
    world: World,
    tokens: Mapping[str, Mapping[str, str]],
    run: Run,
) -> dict[str, dict[str, str]]:
    points = endpoints(tokens)
    await compare(clients, points, world, 20)
    rows: dict[str, dict[str, str]] = {}
    per_round = max(1, run.requests // run.rounds)
    for point in points:
        say(
            f"{point.what}: {per_round * run.rounds} requests a side in {run.rounds} round(s), "
            f"{run.concurrency} at a time"
        )
        rng = random.Random(point.name)
        warm = [point.pick(rng, world) for _ in range(min(200, per_round))]
        for side, index in (("roofline", 0), ("bare", 1)):
            await drive(clients[side], [pair[index] for pair in warm], run.concurrency)
        samples = {"roofline": Sample(), "bare": Sample()}
        for r in range(run.rounds):
            picks = [point.pick(rng, world) for _ in range(per_round)]
            order = [("roofline", 0), ("bare", 1)]
            line = []
            for side, index in order if r % 2 == 0 else order[::-1]:
                # The idle side is this process's child too: not the client's.
                idle = next(pid for name, pid in pids.items() if name != side)
                kinds = {**db_pids, os.getpid(): "client", pids[side]: "server", idle: "idle side"}
                sample = await drive(
                    clients[side], [pair[index] for pair in picks], run.concurrency, kinds
                )
                samples[side].add(sample)
                line.append(f"{side} p50 {sample.percentile(0.5):.1f} ms {sample.rate:,.0f}/s")
            ratio = samples["roofline"].percentile(0.5) / samples["bare"].percentile(0.5)
            say(f"  round {r + 1}: {', '.join(line)} (so far p50 ratio {ratio:.2f})")
        ours, bare = samples["roofline"], samples["bare"]
        p50 = ours.percentile(0.5) / bare.percentile(0.5)
        p99 = ours.percentile(0.99) / bare.percentile(0.99)
        for side, sample in samples.items():
            say(f"  {side:<8} {stats_line(sample)}; {cores_line(sample)}")
        say(
            f"  roofline/bare ratio: p50 {p50:.2f}, p99 {p99:.2f}, "
            f"requests/s {ours.rate / bare.rate:.2f}"
        )
        for label, ratio_of in (("p50 ms", 0.5), ("p99 ms", 0.99)):
            rows[f"{point.name} {label}"] = {
                "roofline": f"{ours.percentile(ratio_of):.1f}",
                "bare": f"{bare.percentile(ratio_of):.1f}",
                "ratio": f"{ours.percentile(ratio_of) / bare.percentile(ratio_of):.2f}",
            }
        rows[f"{point.name} requests/s"] = {
            "roofline": f"{ours.rate:,.0f}",
            "bare": f"{bare.rate:,.0f}",
            "ratio": f"{ours.rate / bare.rate:.2f}",
        }
        for kind in ("server", "postgres"):
            if min(ours.cpu_ms(kind), bare.cpu_ms(kind)) >= 0.05:
                rows[f"{point.name} {kind} CPU ms/request"] = {
                    "roofline": f"{ours.cpu_ms(kind):.2f}",
                    "bare": f"{bare.cpu_ms(kind):.2f}",
                    "ratio": f"{ours.cpu_ms(kind) / bare.cpu_ms(kind):.2f}",
                }
    return rows


# -- what one request runs ----------------------------------------------------------------------


def trip(query: str) -> str:
    """A round trip to the database, in a word or two: BEGIN, ping, SELECT messages, ..."""
    words = query.replace(";", " ").replace("(", " ").split()
    if not words:
        return "ping"  # SQLAlchemy's pre-ping sends ";"
    if words[0].upper() in {"SELECT", "UPDATE", "INSERT"}:
        tables = dict.fromkeys(
            words[n + 1].split(".")[-1].strip('"')
            for n, word in enumerate(words[:-1])
            if word.upper() in {"FROM", "JOIN", "UPDATE", "INTO"}
        )
        return f"{words[0].upper()} {'+'.join(tables)}"
    return words[0]


async def round_trips(service: Service[MessagingDeps], dsn: str, world: World, plans: bool) -> None:
    """What the handlers behind each read send the database, through the service's engine in
    this process (the HTTP route adds no query): its statements (SQLAlchemy's cursor events) and
    the rest (asyncpg's query logger: transactions, the pool's pre-ping). With ``plans``, each
    statement with its EXPLAIN ANALYZE on the seeded data."""
    deps, engine = service.deps, service.platform.engine
    busiest = max(world.sizes, key=lambda t: world.sizes[t])
    installer = next(u for u in world.members[busiest] if not world.is_office(u))
    caller = Caller(installer, TENANT, frozenset({FIELD_ROLE}))
    calls: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        (f"/unread as {installer}", lambda: messages.my_threads(deps, caller)),
        (
            f"a page of the busiest thread ({world.sizes[busiest]} messages)",
            lambda: messages.page(deps, caller, busiest, before=None, limit=PAGE),
        ),
        ("the gauges' refresh (every 15 s in each replica)", lambda: refresh_gauges(deps)),
    ]
    others: list[str] = []
    statements: list[tuple[str, Sequence[Any]]] = []

    def on_connect(dbapi_connection: Any, _: Any) -> None:
        # Logs what is not a prepared statement's execution: BEGIN, COMMIT, ROLLBACK, ";".
        dbapi_connection._connection.add_query_logger(lambda record: others.append(record.query))

    def on_statement(_: Any, __: Any, statement: str, parameters: Any, *___: Any) -> None:
        statements.append((statement, parameters or ()))

    await engine.dispose()  # the connections from now on log
    sa.event.listen(engine.sync_engine, "connect", on_connect)
    sa.event.listen(engine.sync_engine, "before_cursor_execute", on_statement)
    connection = await asyncpg.connect(dsn)
    try:
        for what, call in calls:
            await call()  # a connection in the pool, its statements prepared
            await asyncio.sleep(0)  # the query logger is called soon after each query
            others.clear()
            statements.clear()
            await call()
            await asyncio.sleep(0)
            say(
                f"{what}: {len(statements) + len(others)} round trips: {len(statements)} "
                f"statements ({', '.join(trip(s) for s, _ in statements)}) and "
                f"{', '.join(trip(q) for q in others)}"
            )
            if not plans:
                continue
            for statement, parameters in statements:
                say("  " + " ".join(statement.split()))
                plan = await connection.fetch(
                    f"EXPLAIN (ANALYZE, BUFFERS) {statement}", *parameters
                )
                for row in plan:
                    say(f"    {row[0]}")
    finally:
        sa.event.remove(engine.sync_engine, "connect", on_connect)
        sa.event.remove(engine.sync_engine, "before_cursor_execute", on_statement)
        await connection.close()
        await engine.dispose()


# -- (c) emails -----------------------------------------------------------------------------------


def serve_mail_sink(folder: str, port: int) -> None:
    """The local SMTP sink in a process of its own (``roofline up`` runs it in the supervisor,
    not in the service), until SIGTERM."""
    sink = MailSink(Path(folder), port).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    sink.stop()


@contextlib.contextmanager
def mail_sink(folder: Path) -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from bench.messaging import serve_mail_sink; "
            f"serve_mail_sink({str(folder)!r}, {port})",
        ],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.perf_counter() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if process.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError("the SMTP sink did not start")
            time.sleep(0.1)
        yield port
    finally:
        stop(process)


async def queue_emails(deps: MessagingDeps, count: int, world: World, start: int = 0) -> None:
    """Message alerts, as post_message queues them (NoticeRepository.queue), 500 a transaction."""
    users = world.office + world.installers
    now = deps.clock()
    for first in range(start, start + count, 500):
        async with deps.unit_of_work(TENANT) as uow:
            for n in range(first, min(first + 500, start + count)):
                user = users[n % len(users)]
                body = NewMessage(body=f"Ridge vent arrives Monday ({n}).")
                email = OutgoingEmail(
                    email_id=f"message:{uuid.uuid4()}:{user}",
                    tenant_id=TENANT,
                    to_user=user,
                    to_address=f"{user}@crew.example",
                    subject=f"New message: Customer {n % 500}, {n % 500 + 1} Elm St",
                    body=f"office-000 wrote:\n\n{body.body}",
                    kind="message",
                )
                await uow.repos.notices.queue(email, send_at=now, now=now)
            await uow.commit()


async def email_counts(deps: MessagingDeps) -> dict[str, int]:
    async with deps.mail_queue() as queue:
        return await queue.counts()


async def emails(
    service: Service[MessagingDeps], world: World, folder: Path, run: Run
) -> dict[str, dict[str, str]]:
    deps = service.deps
    rows: dict[str, dict[str, str]] = {}
    began = time.perf_counter()
    await queue_emails(deps, run.emails, world)
    say(
        f"emails: {run.emails} queued in {time.perf_counter() - began:.1f} s; drained by "
        f"send_due rounds (up to 50 a round) back to back, one SMTP connection each"
    )
    before, rounds = count_mailbox(folder), 0
    began = time.perf_counter()
    while await send_due(deps):
        rounds += 1
    seconds = time.perf_counter() - began
    kept = count_mailbox(folder) - before
    counts = await email_counts(deps)
    rate = counts.get("sent", 0) / seconds
    say(
        f"  {counts.get('sent', 0)} sent in {seconds:.1f} s over {rounds} rounds: "
        f"{rate:,.0f} emails/s; the sink kept {kept}; by state {counts}"
    )
    rows["emails/s (rounds back to back)"] = {"roofline": f"{rate:,.0f}"}
    if run.paced_emails:
        interval = deps.settings.email_send_interval_s
        await queue_emails(deps, run.paced_emails, world, start=run.emails)
        before = count_mailbox(folder)
        say(
            f"emails: {run.paced_emails} more, drained as the running service drains them "
            f"(messaging's background loop: rounds back to back while they fill, else one "
            f"every {interval:g} s)"
        )
        loop = asyncio.create_task(messaging_app.email_worker(deps))
        began, deadline = time.perf_counter(), time.perf_counter() + 600
        try:
            while count_mailbox(folder) - before < run.paced_emails:
                if time.perf_counter() > deadline:
                    break
                await asyncio.sleep(0.01)
            seconds = time.perf_counter() - began
        finally:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        kept = count_mailbox(folder) - before
        say(f"  the sink kept {kept} in {seconds:.1f} s: {kept / seconds:,.1f} emails/s")
        rows["emails/s (the service's own loop)"] = {"roofline": f"{kept / seconds:,.1f}"}
    return rows


# -- the run --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    messages: int
    threads: int
    users: int
    requests: int
    concurrency: int
    rounds: int
    emails: int
    paced_emails: int
    explain: bool


async def main(run: Run) -> None:
    started = time.perf_counter()
    ns = f"benchmsg{uuid.uuid4().hex[:6]}"
    rng = random.Random(14)
    with (
        tempfile.TemporaryDirectory(prefix="roofline-bench-") as tmp,
        postgres(Path(tmp)) as db,
        tansu(db) as bus,
    ):
        settings = bus.settings("messaging", ns)
        service = messaging_app.build(settings)
        dsn = asyncpg_dsn(bus.database_url)
        await bus.topics(*all_topics(settings))
        await create_schema(
            service.platform.engine, settings.schema_name, service.platform.metadata
        )
        try:
            began = time.perf_counter()
            world = await seed(
                dsn,
                settings.schema_name,
                threads=run.threads,
                users=run.users,
                count=run.messages,
                rng=rng,
            )
            users = len(world.office) + len(world.installers)
            on = Counter(u for members in world.members.values() for u in members)
            sizes = sorted(world.sizes.values(), reverse=True)
            say(
                f"seeded in {time.perf_counter() - began:.1f} s: {run.messages} messages in "
                f"{run.threads} threads ({len(world.sizes)} with any; the busiest "
                f"{', '.join(map(str, sizes[:3]))}; median {statistics.median(sizes):.0f}), "
                f"{users} users ({len(world.office)} office, {len(world.installers)} installers; "
                f"each on {min(on.values())}-{max(on.values())} threads), {world.reads} read "
                f"receipts; {os.cpu_count()} cores"
            )
            await round_trips(service, dsn, world, run.explain)
            tokens = {
                user: {
                    "Authorization": "Bearer "
                    + mint_token(
                        settings,
                        user=user,
                        tenant=TENANT,
                        roles=[OFFICE_ROLE if world.is_office(user) else FIELD_ROLE],
                    )
                }
                for user in world.office + world.installers
            }
            rows: dict[str, dict[str, str]] = {}
            # The client's own collections out of the latencies (set up as a service is).
            tune_garbage_collector(settings.gc_gen0_threshold)
            async with servers(bus, ns, Path(tmp)) as (roofline, bare):
                limits = httpx.Limits(
                    max_connections=run.concurrency, max_keepalive_connections=run.concurrency
                )
                async with (
                    httpx.AsyncClient(base_url=roofline.url, limits=limits, timeout=60) as ours,
                    httpx.AsyncClient(base_url=bare.url, limits=limits, timeout=60) as theirs,
                ):
                    rows |= await reads_under_load(
                        {"roofline": ours, "bare": theirs},
                        {"roofline": roofline.process.pid, "bare": bare.process.pid},
                        bus.pids,
                        world,
                        tokens,
                        run,
                    )
            if run.emails or run.paced_emails:
                folder = Path(tmp) / "mail"
                with mail_sink(folder) as port:
                    mailing = messaging_app.build(
                        settings.model_copy(update={"smtp_port": port, "smtp_host": "127.0.0.1"})
                    )
                    try:
                        rows |= await emails(mailing, world, folder, run)
                    finally:
                        await mailing.platform.engine.dispose()
            say(
                f"== messaging: {run.messages} messages, {run.threads} threads, {users} users; "
                f"{run.concurrency} concurrent requests"
            )
            columns: dict[str, dict[str, str]] = {"roofline": {}, "bare": {}, "ratio": {}}
            for figure, values in rows.items():
                for column, value in values.items():
                    columns[column][figure] = value
            table(columns)
            say(f"(the whole run took {time.perf_counter() - started:.0f} s)")
        finally:
            await drop_schema(service.platform.engine, settings.schema_name)
            await service.platform.engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=500)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument(
        "--requests", type=int, default=3000, help="requests a side for each endpoint"
    )
    parser.add_argument("--concurrency", type=int, default=10, help="requests in flight")
    parser.add_argument("--rounds", type=int, default=3, help="runs a side for each endpoint")
    parser.add_argument("--emails", type=int, default=2000, help="drained back to back")
    parser.add_argument(
        "--paced-emails", type=int, default=300, help="drained on the service's schedule"
    )
    parser.add_argument(
        "--explain", action="store_true", help="print each read's SQL and its EXPLAIN ANALYZE"
    )
    args = parser.parse_args()
    asyncio.run(
        main(
            Run(
                args.messages,
                args.threads,
                args.users,
                args.requests,
                args.concurrency,
                args.rounds,
                args.emails,
                args.paced_emails,
                args.explain,
            )
        )
    )
