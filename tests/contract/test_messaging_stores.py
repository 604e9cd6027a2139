"""The messaging ports against both adapters: the fakes the handler unit tests use
(tests/unit/messaging/fakes.py) and the SQL repositories (services/messaging/tables) on the real
PostgreSQL, each case run on both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.messaging.domain.portal import WorkFacts
from services.messaging.domain.surveys import FormQuestions, Question, Survey
from services.messaging.domain.threads import NewMessage, ThreadInfo
from services.messaging.ports import MessagingRepositories
from services.messaging.tables import repositories
from shared.platform.storage.db import create_engine, drop_schema
from shared.platform.storage.migrations import migrate
from tests.support.harness import settings_for
from tests.unit.messaging.fakes import State, fake_repositories

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
Stores = Callable[[str], MessagingRepositories]


@pytest.fixture(scope="module")
async def messaging_engine(namespace: str, database_url: str) -> AsyncIterator[AsyncEngine]:
    """A messaging schema of this module's own, migrated to head (no broker is reached)."""
    settings = settings_for("messaging", f"{namespace}ms", database_url, "127.0.0.1:9")
    await asyncio.to_thread(migrate, settings, "services.messaging")
    engine = create_engine(settings)
    try:
        yield engine
    finally:
        await drop_schema(engine, settings.schema_name)
        await engine.dispose()


@pytest.fixture(params=["fake", "sql"])
def stores_engine(request: pytest.FixtureRequest) -> AsyncEngine | None:
    """None for the fake; the database is started only when an "sql" test runs."""
    return request.getfixturevalue("messaging_engine") if request.param == "sql" else None


@pytest.fixture
async def stores(stores_engine: AsyncEngine | None) -> AsyncIterator[Stores]:
    if stores_engine is None:
        state = State()
        yield lambda tenant: fake_repositories(state, tenant)
        return
    async with stores_engine.connect() as connection:
        await connection.begin()
        try:
            yield lambda tenant: repositories(connection, tenant)
        finally:
            await connection.rollback()


def thread(thread_id: str, subject_id: str | None = "job-1", kind: str = "job") -> ThreadInfo:
    return ThreadInfo(
        thread_id=thread_id,
        kind=kind,
        subject_id=subject_id,
        title="Dana",
        opened_at=NOW,  # type: ignore[arg-type]
    )


async def test_one_thread_per_job_and_only_in_its_tenant(stores: Stores) -> None:
    threads = stores("acme").threads
    assert await threads.open(thread("t1"), opened_by="sam")
    assert not await threads.open(thread("t2"), opened_by="sam")  # the job has one
    assert await threads.open(thread("d1", None, "direct"), opened_by="pat")
    assert await threads.open(thread("d2", None, "direct"), opened_by="pat")  # as many as wanted
    assert (await threads.of_subject("job", "job-1")) == thread("t1")
    assert await stores("other").threads.get("t1") is None
    assert await stores("other").threads.open(thread("t1"), opened_by="sam")


async def test_participants_join_leave_and_keep_their_place(stores: Stores) -> None:
    threads = stores("acme").threads
    await threads.open(thread("t1"), opened_by="sam")
    assert await threads.join("t1", ["ivan", "olga", "ivan"], "field", NOW) == ["ivan", "olga"]
    assert await threads.join("t1", ["ivan"], "field", NOW) == []
    await threads.post("t1", "pat", NewMessage(body="one"), "m1", NOW)
    await threads.mark_read("t1", "ivan", 1, NOW, None)
    await threads.leave("t1", ["ivan"])
    ivan = await threads.participant("t1", "ivan")
    assert ivan is not None and not ivan.active and ivan.read_up_to == 1
    assert [t.thread_id for t in await threads.threads_of("ivan")] == []
    assert await threads.join("t1", ["ivan"], "field", NOW) == ["ivan"]  # back: told again
    assert (await threads.participant("t1", "ivan")).read_up_to == 1  # type: ignore[union-attr]


async def test_messages_are_numbered_paged_and_kept_once_per_client_key(stores: Stores) -> None:
    threads = stores("acme").threads
    await threads.open(thread("t1"), opened_by="sam")
    for n in range(1, 6):
        new = NewMessage(body=f"m{n}", client_key=f"k{n}")
        posted = await threads.post("t1", "pat", new, f"id{n}", NOW + timedelta(minutes=n))
        assert posted.seq == n
    assert [m.body for m in await threads.page("t1", before=None, limit=2)] == ["m4", "m5"]
    assert [m.body for m in await threads.page("t1", before=4, limit=2)] == ["m2", "m3"]
    kept = await threads.by_client_key("t1", "pat", "k3")
    assert kept is not None and kept.message_id == "id3"
    assert await threads.by_client_key("t1", "ivan", "k3") is None
    assert (await threads.get("t1")).last_seq == 5  # type: ignore[union-attr]


async def test_reads_count_only_others_messages_and_once(stores: Stores) -> None:
    threads = stores("acme").threads
    await threads.open(thread("t1"), opened_by="sam")
    await threads.join("t1", ["ivan"], "field", NOW)
    await threads.join("t1", ["pat"], "office", NOW)
    await threads.post("t1", "pat", NewMessage(body="1"), "a", NOW)
    await threads.post("t1", "ivan", NewMessage(body="2"), "b", NOW)
    await threads.post("t1", "pat", NewMessage(body="3"), "c", NOW + timedelta(minutes=1))
    (ivans,) = await threads.threads_of("ivan")
    assert ivans.unread == 2
    shown = NOW + timedelta(minutes=2)
    newly = await threads.mark_read("t1", "ivan", 2, NOW + timedelta(minutes=3), shown)
    assert [(r.seq, r.author_id) for r in newly] == [(1, "pat")]
    assert (await threads.threads_of("ivan"))[0].unread == 1
    assert await threads.mark_read("t1", "ivan", 2, NOW, None) == []
    newly = await threads.mark_read("t1", "ivan", 3, NOW + timedelta(minutes=4), None)
    assert [r.seq for r in newly] == [3]
    (seen,) = await threads.seen_by("t1", 1)
    assert (seen.user_id, seen.client_read_at) == ("ivan", shown)
    assert await threads.seen_by("t1", 2) == []  # his own
    (pats,) = await threads.threads_of("pat")
    assert pats.unread == 1


async def test_each_users_feed_is_numbered_from_one(stores: Stores) -> None:
    feed = stores("acme").feed
    await feed.push(["ivan", "pat"], "message", {"n": 1}, NOW)
    await feed.push(["pat"], "read", {"n": 2}, NOW)
    await feed.push(["ivan"], "message", {"n": 3}, NOW)
    assert [(e.seq, e.data["n"]) for e in await feed.after("pat", 0, 10)] == [(1, 1), (2, 2)]
    assert [(e.seq, e.kind) for e in await feed.after("ivan", 1, 10)] == [(2, "message")]
    assert await stores("other").feed.after("ivan", 0, 10) == []


async def test_the_field_sees_the_work_of_the_threads_it_is_on(stores: Stores) -> None:
    repos = stores("acme")
    await repos.threads.open(thread("t1", "job-1"), opened_by="sam")
    await repos.threads.open(thread("t2", "job-2"), opened_by="sam")
    for job, day in (("job-1", date(2026, 12, 9)), ("job-2", date(2026, 12, 8))):
        await repos.portal.put(WorkFacts(kind="job", subject_id=job, start_date=day), NOW)
    await repos.threads.join("t1", ["ivan"], "field", NOW)
    await repos.threads.join("t2", ["ivan"], "field", NOW)
    assert [w.subject_id for w in await repos.portal.assigned_to("ivan")] == ["job-2", "job-1"]
    await repos.threads.leave("t2", ["ivan"])
    assert [w.subject_id for w in await repos.portal.assigned_to("ivan")] == ["job-1"]
    assert await stores("other").portal.get("job", "job-1") is None


def survey(survey_id: str, subject_id: str, crew: str = "crew-a", version: int = 1) -> Survey:
    return Survey(
        survey_id=survey_id,
        subject="job",
        subject_id=subject_id,
        job_id=subject_id,
        crew_id=crew,
        contact_name="Dana",
        contact_email="dana@home.example",
        send_at=NOW,
        expires_at=NOW + timedelta(days=30),
        form_version=version,
    )


async def test_surveys_once_per_job_answered_once_with_versioned_forms(stores: Stores) -> None:
    repo = stores("acme").surveys
    assert (await repo.form()).version == 0  # type: ignore[union-attr]
    question = Question(id="on_time", type="yes_no", prompt="On time?")
    v1 = await repo.new_form(FormQuestions(questions=(question,)), "pat", NOW)
    v2 = await repo.new_form(FormQuestions(questions=()), "pat", NOW)
    assert (v1.version, v2.version) == (1, 2)
    assert (await repo.form(1)).questions == (question,)  # type: ignore[union-attr]
    assert await repo.form(7) is None
    assert await repo.add(survey("s1", "job-1"))
    assert not await repo.add(survey("s2", "job-1"))
    assert await repo.add(survey("s3", "job-2", crew="crew-b", version=2))
    assert await repo.answer("s1", rating=2, answers={"overall": 2}, at=NOW)
    assert not await repo.answer("s1", rating=5, answers={"overall": 5}, at=NOW)
    assert await repo.answer("s3", rating=5, answers={"overall": 5}, at=NOW)
    kept = await repo.get("s1")
    assert kept is not None and (kept.rating, kept.form_version) == (2, 1)
    by_crew = [(r["key"], r["answered"], float(r["average"])) for r in await repo.ratings("crew")]
    assert by_crew == [("crew-a", 1, 2.0), ("crew-b", 1, 5.0)]
    (month,) = await repo.ratings("month")
    assert (month["key"], month["answered"], float(month["average"])) == ("2026-12", 2, 3.5)
    assert await stores("other").surveys.get("s1") is None
