"""Request/message context carried through logs and into the events a handler records."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)
tenant_id_var: ContextVar[str | None] = ContextVar("tenant_id", default=None)
# The HTTP request being served (its ASGI scope, filled in as it is routed), so that what a
# handler does can name the route that asked for it without every handler taking it.
http_scope_var: ContextVar[Mapping[str, Any] | None] = ContextVar("http_scope", default=None)


def request_source() -> str | None:
    """The HTTP request being served, as its method and route template
    (``"POST /jobs/{job_id}/handoff"``; the path when no route matched); None outside one."""
    scope = http_scope_var.get()
    if scope is None:
        return None
    route = scope.get("route")
    return f"{scope.get('method')} {getattr(route, 'path', scope.get('path'))}"
