"""What every service's HTTP edge refuses before a route runs, and the shared paging parameters.

Every service has both: ``ServicePlatform.http_app`` installs the middleware, and every route of
a ``GuardedRouter`` (the only kind ``http_app`` mounts) runs the dependency right after its role
check, so nothing of a request is looked into for a caller who may not make it:

- ``refuse_unstorable_text``, a route dependency: a NUL character or an unpaired surrogate
  in a query parameter, a path parameter or anywhere in a JSON body (keys included) is ``422``
  invalid-input naming each such field (``query.q``, ``path.job_id``, ``body.customer.name``),
  the way a failed validation is. PostgreSQL cannot store either in text or JSONB, so letting
  one through answered 500 wherever it reached the database.
- ``LimitBodySize``, ASGI middleware: a body over the event size limit is ``413``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.platform.http.problems import PROBLEM_JSON, PayloadTooLarge
from shared.platform.text import unstorable

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


def _walk(document: Any) -> Iterator[tuple[tuple[str, ...], str]]:
    """(location, reason) for every string in a decoded JSON document PostgreSQL cannot store,
    in document order. Iterative: a document as deep as the JSON parser allows is no error."""
    stack: list[tuple[tuple[str, ...], Any]] = [((), document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if (reason := unstorable(value)) is not None:
                yield path, reason
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                where = (*path, _printable(key))
                stack.append((where, item))
                stack.append((where, _Key(key)))
        elif isinstance(value, list):
            stack.extend(((*path, str(i)), item) for i, item in reversed(list(enumerate(value))))
        elif isinstance(value, _Key) and (reason := unstorable(value.name)) is not None:
            yield path, f"name {reason}"


class _Key:
    """A key of a JSON object on the walk's stack (checked before its value)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


def _is_json(content_type: str | None) -> bool:
    """Whether FastAPI parses a body of this content type as JSON (none given, or a JSON one)."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _body_errors(body: bytes) -> list[tuple[str, str]]:
    # JSON can only carry either as an escape (\u0000, \ud800) or, for a surrogate, as its
    # (invalid) UTF-8 bytes, which json.loads accepts as FastAPI's parsing does: most bodies
    # have neither and are not decoded a second time.
    if body and json.detect_encoding(body) != "utf-8":
        # json.loads (and so FastAPI) accepts UTF-16 and UTF-32 too, where the checks below
        # would not see an escape; JSON between systems is UTF-8 (RFC 8259).
        return [("body", "must be JSON encoded as UTF-8")]
    if b"\\u" not in body and b"\xed" not in body:
        return []
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # FastAPI answers what it cannot parse
        return []
    return [(".".join(("body", *where)), reason) for where, reason in _walk(document)]


async def refuse_unstorable_text(request: Request) -> None:
    """Route dependency (``GuardedRouter``), run after the role check: one 422
    naming every query parameter, path parameter and JSON body field (``query.q``,
    ``path.job_id``, ``body.customer.name``) that holds text PostgreSQL cannot store, as a
    failed validation of each would. It runs once the router has matched the route (so path
    parameters have their names) and after FastAPI has read the body (so reading it again here
    costs nothing)."""
    errors: list[tuple[str, str]] = []
    # As Starlette decodes the query (percent-decoded UTF-8, invalid bytes replaced).
    for key, value in parse_qsl(request.url.query, keep_blank_values=True):
        field = f"query.{_printable(key)}"
        if (reason := unstorable(key)) is not None:
            errors.append((field, f"name {reason}"))
        if (reason := unstorable(value)) is not None:
            errors.append((field, reason))
    for name, value in request.path_params.items():
        if isinstance(value, str) and (reason := unstorable(value)) is not None:
            errors.append((f"path.{name}", reason))
    if request.method in BODY_METHODS and _is_json(request.headers.get("content-type")):
        errors.extend(_body_errors(await request.body()))
    if errors:
        raise RequestValidationError(
            [
                {"loc": tuple(field.split(".", 1)), "msg": reason, "type": "unstorable_text"}
                for field, reason in errors
            ]
        )


# -- body size -------------------------------------------------------------------------------------

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class LimitBodySize:
    """ASGI middleware: a request body over ``max_body_bytes`` is 413, before it is read any
    further (no command's event could hold it anyway)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body_bytes:
                await self._refuse(scope, send)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._refuse(scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        problem = PayloadTooLarge(f"the request body is over {self.max_body_bytes} bytes")
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
