"""Who may call each route: one declaration per router, enforced and published.

A service's router is a ``GuardedRouter`` built with a table ``{endpoint name: roles}``. Adding a
route whose endpoint is not in the table fails at import (a route nobody thought about is never
open by default); each route gets the role check as a dependency and publishes its roles in the
OpenAPI document as ``x-roles``, which the access test reads to try every role on every route.
Access fails closed: a caller is allowed what their roles grant and nothing else, and a token
with no roles (or only unknown ones) is refused everywhere. ``admin`` may call every route.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from fastapi import APIRouter, Depends

from shared.contracts.roles import ROLES
from shared.platform.http.auth import require_roles
from shared.platform.http.edge import refuse_unstorable_text


class GuardedRouter(APIRouter):
    def __init__(self, access: Mapping[str, Collection[str]], **kwargs: Any) -> None:
        unknown = {role for roles in access.values() for role in roles} - ROLES
        if unknown:
            raise ValueError(f"unknown role(s) in an access table: {', '.join(sorted(unknown))}")
        super().__init__(**kwargs)
        self.access = {name: frozenset(roles) | {"admin"} for name, roles in access.items()}

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        name = endpoint.__name__
        if name not in self.access:
            raise LookupError(
                f"route {path} ({name}) is not in its router's access table: declare who may "
                "call it"
            )
        roles = self.access[name]
        # The caller first (401, then 403), then what the edge refuses in any request (422):
        # nothing of a request is looked into for a caller who may not make it.
        kwargs["dependencies"] = [
            *(kwargs.get("dependencies") or []),
            _guard(roles),
            Depends(refuse_unstorable_text),
        ]
        kwargs["openapi_extra"] = {**(kwargs.get("openapi_extra") or {}), "x-roles": sorted(roles)}
        super().add_api_route(path, endpoint, **kwargs)


def _guard(roles: frozenset[str]) -> Any:
    return Depends(require_roles(*roles))


class PublicRouter(APIRouter):
    """Routes anyone may call without a token, each with the reason declared (a survey link a
    customer opens, a provider's signed webhook, an email's open pixel): published in the
    OpenAPI document as ``x-public``. What guards them is theirs to check (a signed token, a
    signature); the edge still refuses unstorable text."""

    def __init__(self, public: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.public = dict(public)

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        name = endpoint.__name__
        if name not in self.public:
            raise LookupError(
                f"route {path} ({name}) is not in its router's public table: say why anyone "
                "may call it"
            )
        kwargs["dependencies"] = [
            *(kwargs.get("dependencies") or []),
            Depends(refuse_unstorable_text),
        ]
        kwargs["openapi_extra"] = {
            **(kwargs.get("openapi_extra") or {}),
            "x-public": self.public[name],
        }
        super().add_api_route(path, endpoint, **kwargs)
