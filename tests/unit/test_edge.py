"""The HTTP edge's checks (shared/platform/http/edge.py) on a bare app: no database, no broker."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from shared.platform.http.edge import LimitBodySize, refuse_unstorable_text
from shared.platform.http.problems import install_problem_handlers
from shared.platform.text import unstorable

LIMIT = 4096


class Note(BaseModel):
    text: str
    tags: list[str] = []


def bare_app() -> FastAPI:
    app = FastAPI(dependencies=[Depends(refuse_unstorable_text)])
    install_problem_handlers(app)
    app.add_middleware(LimitBodySize, max_body_bytes=LIMIT)

    @app.post("/notes/{note_id}")
    async def add(note_id: str, body: Note, q: str | None = None) -> dict[str, Any]:
        return {"note_id": note_id, "text": body.text, "tags": body.tags, "q": q}

    return app


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=bare_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as http:
        yield http


def fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [error["field"] for error in response.json()["errors"]]


def test_what_postgresql_cannot_store() -> None:
    assert unstorable("a\x00b") is not None
    assert unstorable("\ud800") is not None
    assert unstorable("x\udfff") is not None
    for fine in ("", "Dana Reyes", "Zoë", "\U0001f3e0", "\uffff", "\x01\x1f", "\ue000"):
        assert unstorable(fine) is None


async def test_every_bad_field_is_named_at_once(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/notes/n%00?q=%00&other=%00",
        content=json.dumps({"text": "\x00", "tags": ["ok", "\ud800"], "k\x00": 1}).encode(),
        headers={"content-type": "application/json"},
    )
    assert fields(response) == [
        "query.q",
        "query.other",
        "path.note_id",
        "body.text",
        "body.tags.1",
        "body.k\\x00",
    ]


async def test_a_deeply_nested_document_is_walked_without_recursion(
    client: httpx.AsyncClient,
) -> None:
    depth = 900  # about as deep as the JSON parser itself goes
    body = '{"text": "a", "tags": ' + "[" * depth + '"\\u0000"' + "]" * depth + "}"
    response = await client.post(
        "/notes/n1", content=body.encode(), headers={"content-type": "application/json"}
    )
    assert fields(response) == [".".join(["body", "tags", *["0"] * depth])]


async def test_good_text_passes_untouched(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/notes/n1", params={"q": "Zoë"}, json={"text": "roof \U0001f3e0", "tags": ["a\\u0000"]}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "note_id": "n1",
        "text": "roof \U0001f3e0",
        "tags": ["a\\u0000"],  # an escaped backslash, not a NUL
        "q": "Zoë",
    }


async def test_a_body_over_the_limit_is_413_whether_announced_or_streamed(
    client: httpx.AsyncClient,
) -> None:
    huge = json.dumps({"text": "x" * LIMIT}).encode()
    announced = await client.post("/notes/n1", content=huge)
    assert announced.status_code == 413
    assert announced.json()["type"] == "urn:roofline:problem:too-large"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for start in range(0, len(huge), 512):
            yield huge[start : start + 512]

    streamed = await client.post(
        "/notes/n1", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


async def test_a_streamed_body_under_the_limit_reaches_the_route_whole(
    client: httpx.AsyncClient,
) -> None:
    body = json.dumps({"text": "y" * (LIMIT - 100)}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 300):
            yield body[start : start + 300]

    response = await client.post(
        "/notes/n1", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["text"] == "y" * (LIMIT - 100)


# Any character, surrogates included, and NUL and a lone surrogate often.
CHARACTERS = st.one_of(
    st.characters(exclude_categories=()), st.sampled_from(["\x00", "\ud800", "\udc00"])
)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    text=st.text(CHARACTERS, max_size=20),
    tags=st.lists(st.text(CHARACTERS, max_size=5), max_size=3),
)
async def test_refused_exactly_when_some_string_cannot_be_stored(
    text: str, tags: list[str]
) -> None:
    transport = httpx.ASGITransport(app=bare_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as http:
        response = await http.post(
            "/notes/n1",
            content=json.dumps({"text": text, "tags": tags}).encode(),  # ASCII escapes
            headers={"content-type": "application/json"},
        )
    bad = ["body.text"] if unstorable(text) else []
    bad += [f"body.tags.{i}" for i, tag in enumerate(tags) if unstorable(tag)]
    if bad:
        assert fields(response) == bad
    else:
        assert response.status_code == 200, response.text
        assert response.json()["text"] == text
