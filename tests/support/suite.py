"""What the e2e tests share when they drive the running services over HTTP: a bearer token as a
user of a tenant holds it, and a wait for something the services do a moment later (a wait, not
a timing assertion: the timeout is generous)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from shared.platform.http.auth import mint_token
from shared.platform.settings import load_settings


def bearer(user: str, *roles: str, tenant: str) -> dict[str, str]:
    token = mint_token(load_settings(), user=user, tenant=tenant, roles=list(roles))
    return {"Authorization": f"Bearer {token}"}


def wait_for(
    check: Callable[[], Any], what: str, timeout: float = 60, interval: float = 0.3
) -> Any:
    """Poll ``check`` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")
