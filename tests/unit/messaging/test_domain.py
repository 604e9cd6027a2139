"""The messaging domain's rules, pure: read times, messages, survey answers, delivery reports
and what the field sees."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.messaging.domain.email import MailRefused, OutgoingEmail
from services.messaging.domain.portal import apply_work_event
from services.messaging.domain.surveys import (
    FormQuestions,
    InvalidAnswers,
    Question,
    SurveyForm,
    read_answers,
)
from services.messaging.domain.threads import (
    InvalidReadTime,
    NewMessage,
    Participant,
    check_client_read_at,
    may_read,
)
from services.messaging.domain.webhooks import (
    BadSignature,
    ProviderWebhook,
    email_id_of,
    report_of,
    verify,
)
from services.messaging.links import Links
from services.messaging.mail import SmtpMailer
from shared.contracts.jobs import ChangeOrderAdded, LeadCreated, MaterialsRecorded
from shared.platform.settings import load_settings
from tests.support.mailgun import example

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
SKEW = timedelta(minutes=2)


def test_a_client_read_time_is_trusted_within_the_skew_only() -> None:
    posted = NOW - timedelta(minutes=10)
    for fine in (posted, NOW, NOW + SKEW, posted - SKEW, None):
        check_client_read_at(fine, posted_at=posted, now=NOW, skew=SKEW)
    with pytest.raises(InvalidReadTime, match="in the future"):
        check_client_read_at(
            NOW + SKEW + timedelta(seconds=1), posted_at=posted, now=NOW, skew=SKEW
        )
    with pytest.raises(InvalidReadTime, match="before the message") as early:
        check_client_read_at(
            posted - SKEW - timedelta(seconds=1), posted_at=posted, now=NOW, skew=SKEW
        )
    assert early.value.extensions["errors"][0]["field"] == "client_read_at"  # type: ignore[index]


def test_the_office_reads_every_thread_the_field_only_while_assigned() -> None:
    on = Participant(user_id="ivan", role="field", active=True)
    assert may_read(office=True, participant=None)
    assert may_read(office=False, participant=on)
    assert not may_read(office=False, participant=on.model_copy(update={"active": False}))
    assert not may_read(office=False, participant=None)


def test_a_message_says_something() -> None:
    with pytest.raises(ValidationError, match="a body or at least one attachment"):
        NewMessage(body="   ")
    photo = {"name": "a.jpg", "content_type": "image/jpeg", "size_bytes": 1, "location": "s3://a"}
    assert NewMessage(attachments=[photo]).attachments[0].name == "a.jpg"  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="content_type"):
        NewMessage(body="x", attachments=[{**photo, "content_type": "jpeg"}])  # type: ignore[list-item]


FORM = SurveyForm(
    version=3,
    questions=(
        Question(id="on_time", type="yes_no", prompt="On time?", required=True),
        Question(id="clean", type="choice", prompt="Clean?", choices=("yes", "mostly", "no")),
        Question(id="crew", type="rating", prompt="The crew?"),
        Question(id="notes", type="text", prompt="Anything else?"),
    ),
)


def test_answers_are_typed_from_a_form_post_or_json() -> None:
    posted = {"overall": "4", "on_time": "yes", "clean": "mostly", "crew": "5", "notes": " ok "}
    assert read_answers(FORM, posted) == {
        "overall": 4,
        "on_time": True,
        "clean": "mostly",
        "crew": 5,
        "notes": "ok",
    }
    assert read_answers(FORM, {"overall": 1, "on_time": False}) == {"overall": 1, "on_time": False}


def test_every_bad_answer_is_named() -> None:
    with pytest.raises(InvalidAnswers) as refused:
        read_answers(FORM, {"overall": "6", "clean": "sparkling", "crew": True, "extra": "x"})
    fields = [error["field"] for error in refused.value.errors]
    assert fields == ["extra", "overall", "on_time", "clean", "crew"]


def test_a_form_is_well_made() -> None:
    with pytest.raises(ValidationError, match="at least 2 choices"):
        Question(id="c", type="choice", prompt="?", choices=("one",))
    with pytest.raises(ValidationError, match="always asked"):
        FormQuestions(questions=(Question(id="overall", type="rating", prompt="?"),))
    twice = Question(id="q", type="text", prompt="?")
    with pytest.raises(ValidationError, match="distinct"):
        FormQuestions(questions=(twice, twice))
    assert FORM.all_questions[0].id == "overall" and FORM.all_questions[0].required


def test_a_delivery_report_is_verified_and_read() -> None:
    key = "k"
    bounce = ProviderWebhook.model_validate(
        example(key, "<e1@roofline>", "failed", severity="permanent", now=NOW)
    )
    verify(key, bounce.signature, NOW + timedelta(minutes=5), timedelta(minutes=15))
    with pytest.raises(BadSignature, match="does not match"):
        verify("other", bounce.signature, NOW, timedelta(minutes=15))
    with pytest.raises(BadSignature, match="too long ago"):
        verify(key, bounce.signature, NOW + timedelta(hours=1), timedelta(minutes=15))
    report = report_of(bounce)
    assert report is not None and (report.email_id, report.kind) == ("e1", "bounced")
    assert report.detail == "550 mailbox does not exist"
    soft = ProviderWebhook.model_validate(
        example(key, "e1@roofline", "failed", severity="temporary", now=NOW)
    )
    assert report_of(soft).kind == "deferred"  # type: ignore[union-attr]
    clicked = ProviderWebhook.model_validate(example(key, "e1@roofline", "clicked", now=NOW))
    assert report_of(clicked) is None
    assert email_id_of(" <abc@roofline> ") == "abc"


def test_the_field_never_sees_money() -> None:
    facts = apply_work_event(
        None,
        LeadCreated(
            job_id="j", customer_name="Dana", property_address="12 Elm St", salesman_id="s"
        ),
    )
    facts = apply_work_event(
        facts,
        ChangeOrderAdded(
            job_id="j",
            change_order_id="c",
            signed_on=date(2026, 12, 1),
            amount=Decimal("750.00"),
            note="snow guards",
            by="sam",
            contract_price=Decimal("13250.00"),
            adjustment=False,
        ),
    )
    facts = apply_work_event(
        facts,
        MaterialsRecorded(
            job_id="j",
            manufacturer="GAF",
            product="HDZ",
            colour=None,
            quantity_squares=Decimal("28"),
            supplier=None,
            colour_confirmed=False,
            order_date=None,
            delivery_date=None,
            supplier_status=None,
        ),
    )
    assert facts is not None
    assert facts.notes == ("Change order: snow guards",)
    assert facts.materials is not None and facts.materials.product == "HDZ"
    dumped = facts.model_dump_json()
    assert "750" not in dumped and "13250" not in dumped
    # An event about a job messaging never heard of keeps nothing.
    assert (
        apply_work_event(
            None,
            MaterialsRecorded.model_validate(
                {
                    **facts.materials.model_dump(),
                    "job_id": "x",
                    "colour_confirmed": False,
                    "order_date": None,
                    "supplier_status": None,
                }
            ),
        )
        is None
    )


def test_a_subject_is_one_line_and_an_unsendable_email_is_refused_for_good() -> None:
    email = OutgoingEmail(
        email_id="e1",
        tenant_id="acme",
        to_user="ivan",
        to_address="ivan@crew.example\nBcc: everyone@example.com",
        subject="New message: Dana\r\nReyes,\n12 Elm St",
        body="hi",
    )
    assert email.subject == "New message: Dana Reyes, 12 Elm St"
    mailer = SmtpMailer(load_settings("messaging"), Links("k", "https://portal.example"))
    with pytest.raises(MailRefused) as refused:
        asyncio.run(mailer.send(email))  # refused before any connection is tried
    assert refused.value.permanent
