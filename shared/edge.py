"""What every service's HTTP edge refuses before a route runs, and the shared paging parameters.

``RefuseUnstorableText`` is installed by ``ServicePlatform.http_app``, so every service has it:
a NUL character or an unpaired surrogate in a query parameter, a path parameter or anywhere in a
JSON body (keys included) is answered ``422`` invalid-input naming the field (``query.q``,
``path.job_id``, ``body.customer.name``), the way a failed pydantic validation is; path
parameters are checked by ``refuse_unstorable_path``, an app-wide dependency, once the route
is matched. PostgreSQL
cannot store either in text or JSONB, so letting one through answered 500 wherever it reached
the database. A body over ``max_body_bytes`` is ``413`` before it is read any further.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.problems import PROBLEM_JSON, InvalidInput, PayloadTooLarge, Problem
from shared.text import unstorable

# -- paging ----------------------------------------------------------------------------------------

MAX_PAGE = 200
# Deep enough for any list a person pages through; far inside PostgreSQL's 64-bit OFFSET.
MAX_OFFSET = 100_000

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")]

# -- unstorable text ----------------------------------------------------------------------------


def _printable(name: str) -> str:
    """A field name fit for a message (a key may itself hold the refused character)."""
    return name if unstorable(name) is None else name.encode("unicode_escape").decode("ascii")


def _walk(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    """(location, reason) for every string in a decoded JSON document PostgreSQL cannot store."""
    if isinstance(value, str):
        reason = unstorable(value)
        if reason is not None:
            yield path, reason
    elif isinstance(value, dict):
        for key, item in value.items():
            where = (*path, _printable(key))
            reason = unstorable(key)
            if reason is not None:
                yield where, f"name {reason}"
            yield from _walk(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, str(index)))


def _is_json(scope: Scope) -> bool:
    """Whether FastAPI would parse this body as JSON (no content type, or a JSON one)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media = value.decode("latin-1").split(";", 1)[0].strip().lower()
            return media == "application/json" or media.endswith("+json")
    return True


class RefuseUnstorableText:
    """ASGI middleware: 422 for text PostgreSQL cannot store in the query or the JSON body, 413
    for an oversized body. Path parameters are known only once the router has matched the
    route: ``refuse_unstorable_path`` checks those."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        errors = list(self._query_errors(scope))
        if scope["method"] in ("POST", "PUT", "PATCH") and _is_json(scope):
            body, too_large = await self._read_body(receive)
            if too_large:
                await self._refuse(
                    scope,
                    send,
                    PayloadTooLarge(f"the request body is over {self.max_body_bytes} bytes"),
                )
                return
            errors.extend(self._body_errors(body))
            receive = _replay(body, receive)
        if errors:
            fields = ", ".join(field for field, _ in errors)
            problem = InvalidInput(
                f"invalid value for {fields}",
                errors=[{"field": field, "message": message} for field, message in errors],
            )
            await self._refuse(scope, send, problem)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _query_errors(scope: Scope) -> Iterator[tuple[str, str]]:
        raw = scope.get("query_string", b"")
        if not raw:
            return
        # As Starlette decodes it (percent-decoded UTF-8, invalid bytes replaced).
        for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
            field = f"query.{_printable(key)}"
            if (reason := unstorable(key)) is not None:
                yield field, f"name {reason}"
            if (reason := unstorable(value)) is not None:
                yield field, reason

    async def _read_body(self, receive: Receive) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return b"", True
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), False

    @staticmethod
    def _body_errors(body: bytes) -> list[tuple[str, str]]:
        # JSON can only carry either as an escape (\u0000, \ud800) or, for a surrogate, as its
        # (invalid) UTF-8 bytes, which json.loads accepts like FastAPI's parsing does: most
        # bodies have neither and are not decoded twice.
        if b"\\u" not in body and b"\xed" not in body:
            return []
        try:
            document = json.loads(body)
        except ValueError:  # FastAPI answers what it cannot parse
            return []
        return [(".".join(("body", *where)), reason) for where, reason in _walk(document, ())]

    @staticmethod
    async def _refuse(scope: Scope, send: Send, problem: Problem) -> None:
        payload = json.dumps(problem.body(instance=scope.get("path"))).encode()
        await send(
            {
                "type": "http.response.start",
                "status": problem.status,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then the client's next messages."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def refuse_unstorable_path(request: Request) -> None:
    """App-wide dependency (it runs before any route's own): 422 naming each path parameter
    PostgreSQL cannot store (``path.job_id``), as a failed validation of it would."""
    errors = [
        {"loc": ("path", name), "msg": reason, "type": "unstorable_text", "input": value}
        for name, value in request.path_params.items()
        if isinstance(value, str) and (reason := unstorable(value)) is not None
    ]
    if errors:
        raise RequestValidationError(errors)
