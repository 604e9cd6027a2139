"""Errors as RFC 9457 problem details (``application/problem+json``) with stable ``type`` URIs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.platform.messaging.envelope import MessageTooLarge
from shared.platform.storage.uow import TenantRequired

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:roofline:problem:"


class Problem(Exception):
    status: int = 500
    slug: str = "internal"
    title: str = "Internal error"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": TYPE_PREFIX + self.slug,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Not allowed for your role"


class NotFound(Problem):
    """Also what another tenant's record looks like: existence never leaks across tenants."""

    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflicts with the current state"


class Gone(Problem):
    """It existed and can no longer be used (an expired or already used link)."""

    status, slug, title = 410, "gone", "No longer available"


class PolicyDenied(Problem):
    """A policy decision refused the command: the body names every rule that refused it and
    everything missing (``rules``, ``missing``, ``outcome``)."""

    status, slug, title = 409, "policy-denied", "Refused by policy"


class PolicyUnavailable(Problem):
    """The rules for a decision are not loaded (a refused file with no good version before it):
    nothing can be decided until they are."""

    status, slug, title = 503, "policy-unavailable", "Policy rules unavailable"


class InvalidInput(Problem):
    status, slug, title = 422, "invalid-input", "Invalid input"


class PayloadTooLarge(Problem):
    """The request body, or the event the command would record, is over the size limit."""

    status, slug, title = 413, "too-large", "Too large"


# -- the problems in the OpenAPI document ------------------------------------------------------


class FieldError(BaseModel):
    field: str
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details; a problem type may add members of its own (``errors`` for
    invalid input, ``rules``, ``missing`` and ``outcome`` for a policy refusal)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
    }


def document_problems(app: FastAPI) -> None:
    """Put ``ProblemDetails`` (and what it refers to) in the app's OpenAPI components, where
    ``ERROR_RESPONSES`` points (a response ``model`` would also document it as
    ``application/json``, which no error is)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            schema = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(schema.pop("$defs", {}))
            schemas["ProblemDetails"] = schema
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


# What any service route may answer besides its success: declared on every route the platform
# mounts, so the OpenAPI document says what the service does (413 also for an oversized event).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem_response("The body is not parseable."),
    401: _problem_response("No valid bearer token."),
    403: _problem_response("The caller's role or tenant may not do this."),
    404: _problem_response("No such record (or another tenant's)."),
    409: _problem_response("The record's state or a policy refuses the command."),
    413: _problem_response("The request body, or the event it would record, is too large."),
    422: _problem_response("Invalid input; ``errors`` names each field."),
    503: _problem_response("Policy rules unavailable."),
}


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
    return JSONResponse(
        problem.body(instance=request.url.path),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def map_errors(app: FastAPI, errors: Mapping[type[Exception], type[Problem]]) -> None:
    """A service's domain errors answered as problems: the one place a service maps them (its
    ``api/errors.py`` names each error and the problem it is). An error's ``extensions``
    attribute, if it has one, goes into the body."""
    for error, problem in errors.items():

        async def on_error(
            request: Request, exc: Exception, problem: type[Problem] = problem
        ) -> JSONResponse:
            extensions = getattr(exc, "extensions", None) or {}
            return problem_response(problem(str(exc), **extensions), request)

        app.add_exception_handler(error, on_error)


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc, request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "field": ".".join(str(part) for part in err["loc"]),
                "message": err["msg"],
            }
            for err in exc.errors()
        ]
        fields = ", ".join(error["field"] for error in errors)
        return problem_response(InvalidInput(f"invalid value for {fields}", errors=errors), request)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        problem = Problem(str(exc.detail))
        problem.status, problem.title = exc.status_code, str(exc.detail)
        problem.slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http")
        return problem_response(problem, request)

    async def on_tenant_required(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(Forbidden(str(exc)), request)

    async def on_message_too_large(request: Request, exc: Exception) -> JSONResponse:
        # Raised when the command records its event (``encode_event`` in the envelope module):
        # nothing was committed; the input that made the event too large is the client's to
        # shorten.
        return problem_response(PayloadTooLarge(str(exc)), request)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(TenantRequired, on_tenant_required)
    app.add_exception_handler(MessageTooLarge, on_message_too_large)
