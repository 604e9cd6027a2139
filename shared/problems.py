"""Errors as RFC 9457 problem details (``application/problem+json``) with stable ``type`` URIs."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.uow import TenantRequired

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


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
    return JSONResponse(
        problem.body(instance=request.url.path),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


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

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(TenantRequired, on_tenant_required)
