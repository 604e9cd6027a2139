"""Fakes for the messaging handlers: in-memory stores over one ``State``, and a unit of work
that works on a copy of it, kept only when it commits. tests/contract runs the store cases
against these and the SQL repositories alike."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from services.messaging.domain.directory import Person
from services.messaging.domain.email import EmailStatus, OutgoingEmail
from services.messaging.domain.notifications import Delivery
from services.messaging.domain.portal import WorkFacts
from services.messaging.domain.surveys import DEFAULT_FORM, FormQuestions, Survey, SurveyForm
from services.messaging.domain.threads import (
    Message,
    NewMessage,
    Participant,
    ParticipantRole,
    SeenBy,
    ThreadInfo,
    ThreadSummary,
)
from services.messaging.links import Links
from services.messaging.metrics import MessagingMetrics
from services.messaging.ports import FeedEvent, MessagingDeps, MessagingRepositories, ReadRecord
from shared.contracts.base import EventData
from shared.platform.messaging.envelope import Envelope
from shared.platform.settings import load_settings
from shared.policy.decision import Decision
from tests.support.fake_policy import FakePolicy


@dataclass
class State:
    """What the fake database holds for all tenants (keys start with the tenant)."""

    threads: dict[tuple[str, str], ThreadInfo] = field(default_factory=dict)
    participants: dict[tuple[str, str, str], Participant] = field(default_factory=dict)
    messages: dict[tuple[str, str, int], tuple[Message, str | None]] = field(default_factory=dict)
    reads: dict[tuple[str, str, int, str], SeenBy] = field(default_factory=dict)
    feed: dict[tuple[str, str], list[FeedEvent]] = field(default_factory=dict)
    work: dict[tuple[str, str, str], WorkFacts] = field(default_factory=dict)
    people: dict[tuple[str, str], Person] = field(default_factory=dict)
    inbox: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    emails: dict[str, tuple[OutgoingEmail, EmailStatus, datetime]] = field(default_factory=dict)
    email_log: list[tuple[str, EmailStatus | str, datetime, str | None]] = field(
        default_factory=list
    )
    suppressed: dict[tuple[str, str], str] = field(default_factory=dict)
    forms: dict[tuple[str, int], SurveyForm] = field(default_factory=dict)
    surveys: dict[tuple[str, str], Survey] = field(default_factory=dict)
    events: list[tuple[str, EventData]] = field(default_factory=list)


class FakeThreads:
    def __init__(self, state: State, tenant: str) -> None:
        self.state, self.tenant = state, tenant

    async def open(self, thread: ThreadInfo, opened_by: str) -> bool:
        key = (self.tenant, thread.thread_id)
        if key in self.state.threads or (
            thread.subject_id is not None
            and await self.of_subject(thread.kind, thread.subject_id) is not None
        ):
            return False
        self.state.threads[key] = thread
        return True

    async def get(self, thread_id: str) -> ThreadInfo | None:
        return self.state.threads.get((self.tenant, thread_id))

    async def lock(self, thread_id: str) -> None:
        """One unit of work at a time here: nothing to wait for."""

    async def of_subject(self, kind: str, subject_id: str) -> ThreadInfo | None:
        return next(
            (
                t
                for (tenant, _), t in self.state.threads.items()
                if tenant == self.tenant and t.kind == kind and t.subject_id == subject_id
            ),
            None,
        )

    async def participant(self, thread_id: str, user_id: str) -> Participant | None:
        return self.state.participants.get((self.tenant, thread_id, user_id))

    async def participants_of(self, thread_id: str) -> list[Participant]:
        return sorted(
            (
                p
                for (tenant, thread, _), p in self.state.participants.items()
                if (tenant, thread) == (self.tenant, thread_id)
            ),
            key=lambda p: p.user_id,
        )

    async def join(
        self, thread_id: str, user_ids: Iterable[str], role: ParticipantRole, now: datetime
    ) -> list[str]:
        added = []
        for user in sorted(set(user_ids)):
            key = (self.tenant, thread_id, user)
            before = self.state.participants.get(key)
            if before is None or not before.active:
                added.append(user)
            read_up_to = before.read_up_to if before else 0
            self.state.participants[key] = Participant(
                user_id=user, role=role, active=True, read_up_to=read_up_to
            )
        return added

    async def leave(self, thread_id: str, user_ids: Iterable[str]) -> None:
        for user in user_ids:
            key = (self.tenant, thread_id, user)
            if key in self.state.participants:
                self.state.participants[key] = self.state.participants[key].model_copy(
                    update={"active": False}
                )

    def _messages(self, thread_id: str) -> list[tuple[Message, str | None]]:
        return [
            kept
            for (tenant, thread, _), kept in sorted(self.state.messages.items())
            if (tenant, thread) == (self.tenant, thread_id)
        ]

    async def by_client_key(self, thread_id: str, author_id: str, key: str) -> Message | None:
        return next(
            (
                m
                for m, client_key in self._messages(thread_id)
                if m.author_id == author_id and client_key == key
            ),
            None,
        )

    async def post(
        self, thread_id: str, author_id: str, new: NewMessage, message_id: str, now: datetime
    ) -> Message:
        thread = self.state.threads[(self.tenant, thread_id)]
        seq = thread.last_seq + 1
        self.state.threads[(self.tenant, thread_id)] = thread.model_copy(
            update={"last_seq": seq, "last_message_at": now}
        )
        message = Message(
            thread_id=thread_id,
            seq=seq,
            message_id=message_id,
            author_id=author_id,
            body=new.body,
            attachments=new.attachments,
            posted_at=now,
        )
        self.state.messages[(self.tenant, thread_id, seq)] = (message, new.client_key)
        return message

    async def message(self, thread_id: str, seq: int) -> Message | None:
        kept = self.state.messages.get((self.tenant, thread_id, seq))
        return kept[0] if kept else None

    async def page(self, thread_id: str, *, before: int | None, limit: int) -> list[Message]:
        messages = [m for m, _ in self._messages(thread_id) if before is None or m.seq < before]
        return messages[-limit:]

    async def mark_read(
        self,
        thread_id: str,
        user_id: str,
        up_to: int,
        read_at: datetime,
        client_read_at: datetime | None,
    ) -> list[ReadRecord]:
        key = (self.tenant, thread_id, user_id)
        place = self.state.participants[key].read_up_to
        if up_to <= place:
            return []
        newly = []
        for message, _ in self._messages(thread_id):
            if place < message.seq <= up_to and message.author_id != user_id:
                read_key = (self.tenant, thread_id, message.seq, user_id)
                if read_key not in self.state.reads:
                    self.state.reads[read_key] = SeenBy(
                        user_id=user_id, read_at=read_at, client_read_at=client_read_at
                    )
                    newly.append(ReadRecord(seq=message.seq, author_id=message.author_id))
        self.state.participants[key] = self.state.participants[key].model_copy(
            update={"read_up_to": up_to}
        )
        return newly

    async def seen_by(self, thread_id: str, seq: int) -> list[SeenBy]:
        return sorted(
            (
                s
                for (tenant, thread, at, _), s in self.state.reads.items()
                if (tenant, thread, at) == (self.tenant, thread_id, seq)
            ),
            key=lambda s: (s.read_at, s.user_id),
        )

    async def threads_of(self, user_id: str) -> list[ThreadSummary]:
        summaries = []
        for (tenant, thread_id, user), p in self.state.participants.items():
            if (tenant, user) != (self.tenant, user_id) or not p.active:
                continue
            thread = self.state.threads[(tenant, thread_id)]
            unread = sum(
                1
                for m, _ in self._messages(thread_id)
                if m.seq > p.read_up_to and m.author_id != user_id
            )
            summaries.append(ThreadSummary(**thread.model_dump(), unread=unread))
        never = datetime.min.replace(tzinfo=UTC)
        return sorted(
            summaries, key=lambda t: (-(t.last_message_at or never).timestamp(), t.thread_id)
        )


class FakeFeed:
    def __init__(self, state: State, tenant: str) -> None:
        self.state, self.tenant = state, tenant

    async def push(
        self, user_ids: Sequence[str], kind: str, data: dict[str, Any], at: datetime
    ) -> None:
        for user in sorted(set(user_ids)):
            feed = self.state.feed.setdefault((self.tenant, user), [])
            feed.append(FeedEvent(seq=len(feed) + 1, kind=kind, data=data, at=at))

    async def after(self, user_id: str, seq: int, limit: int) -> list[FeedEvent]:
        feed = self.state.feed.get((self.tenant, user_id), [])
        return [e for e in feed if e.seq > seq][:limit]


class FakePortal:
    def __init__(self, state: State, tenant: str) -> None:
        self.state, self.tenant = state, tenant

    async def get(self, kind: str, subject_id: str) -> WorkFacts | None:
        return self.state.work.get((self.tenant, kind, subject_id))

    async def get_for_update(self, kind: str, subject_id: str) -> WorkFacts | None:
        return await self.get(kind, subject_id)

    async def put(self, facts: WorkFacts, now: datetime) -> None:
        self.state.work[(self.tenant, facts.kind, facts.subject_id)] = facts

    async def assigned_to(self, user_id: str) -> list[WorkFacts]:
        threads = FakeThreads(self.state, self.tenant)
        found = []
        for (tenant, kind, subject_id), facts in self.state.work.items():
            thread = await threads.of_subject(kind, subject_id) if tenant == self.tenant else None
            member = await threads.participant(thread.thread_id, user_id) if thread else None
            if member is not None and member.active:
                found.append(facts)
        return sorted(found, key=lambda f: (f.start_date is None, str(f.start_date), f.subject_id))


class FakeDirectory:
    def __init__(self, state: State, tenant: str) -> None:
        self.state, self.tenant = state, tenant

    async def put(self, person: Person) -> None:
        self.state.people[(self.tenant, person.user_id)] = person.model_copy(
            update={"bounced": False}
        )

    async def all(self) -> list[Person]:
        def bounced(p: Person) -> bool:
            return p.email is not None and (self.tenant, p.email.lower()) in self.state.suppressed

        return [
            p.model_copy(update={"bounced": bounced(p)})
            for (t, _), p in sorted(self.state.people.items())
            if t == self.tenant
        ]

    async def some(self, user_ids: Sequence[str]) -> list[Person]:
        return [p for p in await self.all() if p.user_id in user_ids]

    async def with_role(self, role: str) -> list[Person]:
        return [p for p in await self.all() if role in p.roles]


class FakeNotices:
    def __init__(self, state: State, tenant: str) -> None:
        self.state, self.tenant = state, tenant

    async def deliver(self, delivery: Delivery, now: datetime) -> bool:
        key = (self.tenant, delivery.item_id)
        if key in self.state.inbox:
            return False
        self.state.inbox[key] = {
            "item_id": delivery.item_id,
            "user_id": delivery.user_id,
            "title": delivery.title,
            "body": delivery.body,
            "rule": delivery.rule,
            "created_at": now,
            "read_at": None,
        }
        if delivery.email is not None:
            await self.queue(delivery.email, send_at=delivery.send_after, now=now)
        return True

    async def queue(self, email: OutgoingEmail, *, send_at: datetime, now: datetime) -> bool:
        if email.email_id in self.state.emails:
            return False
        bounced = self.state.suppressed.get((self.tenant, email.to_address.lower()))
        self.state.emails[email.email_id] = (email, "failed" if bounced else "queued", send_at)
        self.state.email_log.append((email.email_id, "queued", now, None))
        if bounced:
            self.state.email_log.append((email.email_id, "failed", now, bounced))
        return True

    async def read_item(self, user_id: str, item_id: str, at: datetime) -> bool:
        item = self.state.inbox.get((self.tenant, item_id))
        if item is None or item["user_id"] != user_id:
            return False
        item["read_at"] = item["read_at"] or at
        return True

    async def requeue(self, email_id: str, at: datetime, by: str) -> EmailStatus | None:
        kept = self.state.emails.get(email_id)
        if kept is None or kept[0].tenant_id != self.tenant:
            return None
        email, status, _ = kept
        if status in ("in_doubt", "failed") and (
            (self.tenant, email.to_address.lower()) not in self.state.suppressed
        ):
            self.state.emails[email_id] = (email, "queued", at)
            self.state.email_log.append((email_id, "queued", at, f"again, by {by}"))
            return "queued"
        return status

    async def inbox_of(self, user_id: str, *, unread_only: bool) -> list[dict[str, Any]]:
        items = [
            item
            for (tenant, _), item in self.state.inbox.items()
            if tenant == self.tenant
            and item["user_id"] == user_id
            and not (unread_only and item["read_at"])
        ]
        return sorted(items, key=lambda i: i["created_at"], reverse=True)

    async def email_log(self, email_id: str) -> list[tuple[EmailStatus, datetime, str | None]]:
        kept = self.state.emails.get(email_id)
        if kept is None or kept[0].tenant_id != self.tenant:
            return []
        return [(s, at, d) for e, s, at, d in self.state.email_log if e == email_id]  # type: ignore[misc]


class FakeSurveys:
    def __init__(self, state: State, tenant: str) -> None:
        self.state, self.tenant = state, tenant

    async def form(self, version: int | None = None) -> SurveyForm | None:
        forms = {v: f for (t, v), f in self.state.forms.items() if t == self.tenant}
        if version is None:
            return forms[max(forms)] if forms else DEFAULT_FORM
        return forms.get(version, DEFAULT_FORM if version == 0 else None)

    async def new_form(self, questions: FormQuestions, by: str, now: datetime) -> SurveyForm:
        latest = await self.form()
        assert latest is not None
        form = SurveyForm(
            version=latest.version + 1, questions=questions.questions, created_at=now, created_by=by
        )
        self.state.forms[(self.tenant, form.version)] = form
        return form

    async def add(self, survey: Survey) -> bool:
        if any(
            (t, s.subject, s.subject_id) == (self.tenant, survey.subject, survey.subject_id)
            for (t, _), s in self.state.surveys.items()
        ):
            return False
        self.state.surveys[(self.tenant, survey.survey_id)] = survey
        return True

    async def get(self, survey_id: str) -> Survey | None:
        return self.state.surveys.get((self.tenant, survey_id))

    async def answer(
        self, survey_id: str, *, rating: int, answers: dict[str, Any], at: datetime
    ) -> bool:
        survey = await self.get(survey_id)
        if survey is None or survey.answered_at is not None:
            return False
        self.state.surveys[(self.tenant, survey_id)] = survey.model_copy(
            update={
                "answered_at": at,
                "rating": rating,
                "answers": answers,
            }
        )
        return True

    async def ratings(self, by: str) -> list[dict[str, Any]]:
        groups: dict[str | None, list[int]] = {}
        for (tenant, _), s in self.state.surveys.items():
            if tenant != self.tenant or s.answered_at is None or s.rating is None:
                continue
            key = {"job": s.job_id, "crew": s.crew_id, "month": f"{s.answered_at:%Y-%m}"}[by]
            groups.setdefault(key, []).append(s.rating)
        return [
            {"key": key, "answered": len(r), "average": sum(r) / len(r), "lowest": min(r)}
            for key, r in sorted(groups.items(), key=lambda kv: str(kv[0]))
        ]


def fake_repositories(state: State, tenant: str) -> MessagingRepositories:
    return MessagingRepositories(
        threads=FakeThreads(state, tenant),
        feed=FakeFeed(state, tenant),
        portal=FakePortal(state, tenant),
        directory=FakeDirectory(state, tenant),
        notices=FakeNotices(state, tenant),
        surveys=FakeSurveys(state, tenant),
    )


class FakeUnitOfWork:
    """Works on a copy of the state: a commit keeps it, leaving without one drops it."""

    def __init__(self, kept: State, tenant: str, policy: FakePolicy) -> None:
        self.kept, self.tenant_id, self.policy = kept, tenant, policy
        self.transaction = self  # the fake policy logs through this
        self.state = copy.deepcopy(kept)
        self.repos = fake_repositories(self.state, tenant)
        self._decisions: list[Decision] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.state = copy.deepcopy(self.kept)

    def record(
        self,
        data: EventData,
        *,
        subject: str,
        sequence: int | None = None,
        cause: Envelope | None = None,
    ) -> None:
        self.state.events.append((subject, data))

    def log_decision(self, decision: Decision) -> None:
        self._decisions.append(decision)

    async def commit(self) -> None:
        self.kept.__dict__.update(copy.deepcopy(self.state).__dict__)
        self.policy.log += self._decisions
        self._decisions = []


class NoMailer:
    async def send(self, email: OutgoingEmail) -> None:
        raise AssertionError("the handlers under test send nothing: the worker does")


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def fake_deps(now: datetime) -> tuple[MessagingDeps, State, FakePolicy, Clock]:
    state, policy, clock = State(), FakePolicy(), Clock(now)
    settings = load_settings("messaging", public_url="https://portal.example")

    def unused() -> Any:
        raise AssertionError("the handlers under test do not reach the mail queue or stats")

    deps = MessagingDeps(
        unit_of_work=lambda tenant: FakeUnitOfWork(state, tenant, policy),
        mail_queue=unused,
        mailer=NoMailer(),
        stats=unused,
        policy=policy,
        links=Links("test-key", settings.public_url),
        settings=settings,
        metrics=MessagingMetrics(),
        clock=clock,
    )
    return deps, state, policy, clock
