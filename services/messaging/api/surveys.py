"""Satisfaction surveys: the customer's link (no login: a signed, single-use token) as an HTML
form or JSON, the tenant's versioned questions, and rating tracking."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from fastapi import Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from services.messaging.api import survey_pages
from services.messaging.api.common import AnyCaller, Id
from services.messaging.api.deps import Deps
from services.messaging.domain.surveys import (
    FormQuestions,
    InvalidAnswers,
    Survey,
    SurveyForm,
    SurveyUnavailable,
)
from services.messaging.handlers import surveys
from shared.contracts.roles import OFFICE_ROLES
from shared.platform.http.access import GuardedRouter, PublicRouter
from shared.platform.http.problems import Gone, InvalidInput, NotFound, problem_response

ACCESS = {
    "put_survey_questions": ("production_manager", "service_manager"),
    "survey_questions": OFFICE_ROLES,
    "survey_ratings": OFFICE_ROLES,
    "job_survey": OFFICE_ROLES,
    "ticket_survey": OFFICE_ROLES,
}
PUBLIC = {
    "survey_form": "a customer opens the survey link from their email (the token is signed)",
    "answer_survey": "a customer answers through the signed, single-use link",
}

# A survey route answers a page to a browser and JSON to a client asking for it, errors too.
_PAGE_OR_JSON = {
    "text/html": {"schema": {"type": "string"}},
    "application/json": {"schema": {"type": "object"}},
    "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}},
}
SURVEY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The survey (or the thanks).", "content": _PAGE_OR_JSON},
    404: {"description": "The link is not valid.", "content": _PAGE_OR_JSON},
    410: {"description": "Expired, or already answered.", "content": _PAGE_OR_JSON},
    422: {"description": "An answer does not fit its question.", "content": _PAGE_OR_JSON},
}
ANSWERS_BODY = {
    "requestBody": {
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "additionalProperties": {"type": "string"}}
            },
            "application/json": {"schema": {"type": "object"}},
        }
    }
}

router = GuardedRouter(ACCESS, tags=["surveys"])
public = PublicRouter(PUBLIC, tags=["surveys"])
Token = Annotated[str, Path(min_length=10, max_length=500)]


def wants_json(request: Request, format: str | None) -> bool:
    if format is not None:
        return format == "json"
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def unavailable(exc: SurveyUnavailable, request: Request, as_json: bool) -> Response:
    status = 404 if exc.reason == "invalid" else 410
    if as_json:
        problem = NotFound if exc.reason == "invalid" else Gone
        return problem_response(problem(str(exc), reason=exc.reason), request)
    return HTMLResponse(survey_pages.unavailable_page(str(exc)), status_code=status)


def form_json(survey: Survey, form: SurveyForm) -> dict[str, Any]:
    return {
        "survey_id": survey.survey_id,
        "contact_name": survey.contact_name,
        "expires_at": survey.expires_at.isoformat(),
        "form_version": form.version,
        "questions": [q.model_dump(mode="json") for q in form.all_questions],
    }


@public.get("/surveys/{token}", response_model=None, responses=SURVEY_RESPONSES)
async def survey_form(
    token: Token,
    request: Request,
    deps: Deps,
    format: Annotated[Literal["html", "json"] | None, Query()] = None,
) -> Response:
    """The survey: an HTML form, or JSON (``Accept: application/json`` or ``?format=json``)."""
    as_json = wants_json(request, format)
    try:
        survey, form = await surveys.open_survey(deps, token)
    except SurveyUnavailable as exc:
        return unavailable(exc, request, as_json)
    if as_json:
        return JSONResponse(form_json(survey, form))
    return HTMLResponse(survey_pages.form_page(survey, form))


@public.post(
    "/surveys/{token}", response_model=None, responses=SURVEY_RESPONSES, openapi_extra=ANSWERS_BODY
)
async def answer_survey(
    token: Token,
    request: Request,
    deps: Deps,
    format: Annotated[Literal["html", "json"] | None, Query()] = None,
) -> Response:
    """The answers, as the HTML form posts them or as a JSON object (question id: answer);
    ``overall`` (1-5) is always required."""
    is_json = request.headers.get("content-type", "").startswith("application/json")
    as_json = is_json or wants_json(request, format)
    raw_body = await request.body()
    try:
        raw = json.loads(raw_body or b"{}") if is_json else dict(parse_qsl(raw_body.decode()))
    except (ValueError, UnicodeDecodeError):
        return problem_response(InvalidInput("the body is not valid JSON or form data"), request)
    if not isinstance(raw, dict):
        return problem_response(
            InvalidInput("the answers are an object: question id -> answer"), request
        )
    try:
        answered = await surveys.answer_survey(deps, token, raw)
    except SurveyUnavailable as exc:
        return unavailable(exc, request, as_json)
    except InvalidAnswers as exc:
        if as_json:
            return problem_response(InvalidInput(str(exc), errors=exc.errors), request)
        survey, form = await surveys.open_survey(deps, token)
        errors = {e["field"]: e["message"] for e in exc.errors}
        return HTMLResponse(survey_pages.form_page(survey, form, errors), status_code=422)
    if as_json:
        return JSONResponse(
            {
                "survey_id": answered.survey_id,
                "rating": answered.rating,
                "form_version": answered.form_version,
                "answered_at": answered.answered_at.isoformat() if answered.answered_at else None,
            }
        )
    return HTMLResponse(survey_pages.thanks_page())


@router.put("/survey-questions", response_model=SurveyForm)
async def put_survey_questions(body: FormQuestions, deps: Deps, caller: AnyCaller) -> SurveyForm:
    """The tenant's questions, as a new version (answers keep the version they answered). The
    overall rating 1-5 is always asked first."""
    return await surveys.put_questions(deps, caller, body)


@router.get("/survey-questions", response_model=SurveyForm)
async def survey_questions(
    deps: Deps,
    caller: AnyCaller,
    version: Annotated[
        int | None, Query(ge=0, le=1_000_000, description="Unset: the latest.")
    ] = None,
) -> SurveyForm:
    form = await surveys.current_form(deps, caller, version)
    if form is None:
        raise NotFound(f"no version {version} of the survey questions")
    return form


@router.get("/survey-ratings")
async def survey_ratings(
    deps: Deps, caller: AnyCaller, by: Literal["job", "crew", "month"] = "month"
) -> list[dict[str, Any]]:
    """Answered surveys per job, crew or month: how many, the average and the lowest rating."""
    rows = await surveys.ratings(deps, caller, by)
    # An average of 1-5 ratings, not money: a plain number, to two places.
    return [{**row, "average": float(round(row["average"], 2))} for row in rows]


@router.get("/jobs/{job_id}/survey", response_model=Survey)
async def job_survey(job_id: Id, deps: Deps, caller: AnyCaller) -> Survey:
    return await _survey(deps, caller, "job", job_id)


@router.get("/tickets/{ticket_id}/survey", response_model=Survey)
async def ticket_survey(ticket_id: Id, deps: Deps, caller: AnyCaller) -> Survey:
    return await _survey(deps, caller, "ticket", ticket_id)


async def _survey(
    deps: Deps, caller: AnyCaller, kind: Literal["job", "ticket"], subject_id: str
) -> Survey:
    found = await surveys.survey(deps, caller, kind, subject_id)
    if found is None:
        raise NotFound(f"no survey for {kind} {subject_id}")
    return found
