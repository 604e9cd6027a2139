"""Satisfaction surveys (seed 001, "Satisfaction Surveys": dynamic questions, rating tracking).

A tenant defines its questions (rating, yes/no, choice, free text); each change is a new version
of its form, and an answer keeps the version it answered. The overall rating 1-5 is always asked,
whatever the form. A customer answers through a link carrying a signed token (no login); the
token names the survey, and the survey's row says whether it is expired or already answered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contracts.messaging import SurveySubject

QuestionType = Literal["rating", "yes_no", "choice", "text"]
OVERALL = "overall"
OVERALL_PROMPT = "Overall, how satisfied are you with our work? (1 = not at all, 5 = very)"


class Question(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")]
    type: QuestionType
    prompt: str = Field(min_length=1, max_length=500)
    required: bool = False
    choices: tuple[str, ...] = Field((), max_length=20, description="For type choice only.")

    @model_validator(mode="after")
    def choices_for_choice(self) -> Question:
        if self.type == "choice" and len(self.choices) < 2:
            raise ValueError(f"question {self.id!r}: a choice question needs at least 2 choices")
        if self.type != "choice" and self.choices:
            raise ValueError(f"question {self.id!r}: only a choice question has choices")
        return self


class FormQuestions(BaseModel):
    """The tenant's own questions (the overall rating is always asked first, not listed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    questions: tuple[Question, ...] = Field((), max_length=30)

    @model_validator(mode="after")
    def distinct_ids(self) -> FormQuestions:
        ids = [q.id for q in self.questions]
        if OVERALL in ids:
            raise ValueError(f"question id {OVERALL!r} is the overall rating, always asked")
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"question ids must be distinct: {', '.join(duplicates)}")
        return self


class SurveyForm(FormQuestions):
    version: int = Field(description="0: no questions defined yet, the overall rating only.")
    created_at: datetime | None = None
    created_by: str | None = None

    @property
    def all_questions(self) -> tuple[Question, ...]:
        overall = Question(id=OVERALL, type="rating", prompt=OVERALL_PROMPT, required=True)
        return (overall, *self.questions)


DEFAULT_FORM = SurveyForm(version=0)


class Survey(BaseModel):
    model_config = ConfigDict(frozen=True)

    survey_id: str
    subject: SurveySubject
    subject_id: str
    job_id: str | None
    crew_id: str | None
    contact_name: str | None
    contact_email: str
    send_at: datetime
    expires_at: datetime
    answered_at: datetime | None = None
    form_version: int | None = Field(
        None, description="The version of the tenant's questions it asks (set when sent)."
    )
    rating: int | None = None
    answers: dict[str, Any] | None = None


class SurveyUnavailable(Exception):
    """The link cannot be used: why, in words the customer understands (``reason`` for code)."""

    def __init__(self, reason: Literal["invalid", "expired", "answered"], message: str) -> None:
        super().__init__(message)
        self.reason = reason


class InvalidAnswers(ValueError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors

    @property
    def extensions(self) -> dict[str, object]:
        return {"errors": self.errors}


def usable(survey: Survey | None, now: datetime) -> Survey:
    """The survey a link may answer now, or why not."""
    if survey is None:
        raise SurveyUnavailable("invalid", "This survey link is not valid.")
    if survey.answered_at is not None:
        raise SurveyUnavailable("answered", "This survey was already answered. Thank you!")
    if now >= survey.expires_at:
        raise SurveyUnavailable("expired", "This survey link has expired.")
    return survey


def read_answers(form: SurveyForm, raw: dict[str, Any]) -> dict[str, Any]:
    """The answers, typed and checked against the form (each error names its question). Form
    posts send strings; JSON may send numbers and booleans: both are accepted."""
    answers: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    known = {q.id for q in form.all_questions}
    for name in raw:
        if name not in known and name != "form_version":  # sent by older forms: not an answer
            errors.append({"field": name, "message": "not a question of this survey"})
    for question in form.all_questions:
        value = raw.get(question.id)
        if value is None or value == "":
            if question.required:
                errors.append({"field": question.id, "message": "an answer is required"})
            continue
        try:
            answers[question.id] = _typed(question, value)
        except ValueError as exc:
            errors.append({"field": question.id, "message": str(exc)})
    if errors:
        raise InvalidAnswers(errors)
    return answers


def _typed(question: Question, value: Any) -> Any:
    match question.type:
        case "rating":
            if isinstance(value, bool):
                raise ValueError("a rating is a whole number from 1 to 5")
            try:
                rating = int(str(value))
            except ValueError:
                raise ValueError("a rating is a whole number from 1 to 5") from None
            if not 1 <= rating <= 5:
                raise ValueError("a rating is a whole number from 1 to 5")
            return rating
        case "yes_no":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("yes", "true"):
                return True
            if str(value).lower() in ("no", "false"):
                return False
            raise ValueError("answer yes or no")
        case "choice":
            if value not in question.choices:
                raise ValueError(f"choose one of: {', '.join(question.choices)}")
            return value
        case _:
            text = str(value).strip()
            if len(text) > 5000:
                raise ValueError("at most 5000 characters")
            return text
