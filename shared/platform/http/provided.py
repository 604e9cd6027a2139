"""Typed dependencies from a service's composition root to its module-level routes.

A service's ``api/`` declares what its routes need once, at module level
(``jobs_deps = Provided[JobsDeps]("jobs dependencies")``, used as ``Depends(jobs_deps)``), and its
``app.py`` provides the value when it builds the app (``jobs_deps.given(deps)``). The value lives
with the FastAPI app, not in a module global, so several apps can run in one process (tests do).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, NamedTuple, TypeVar

T = TypeVar("T")


class Provision(NamedTuple):
    """One dependency and what provides it (``app.dependency_overrides[dependency] = provider``)."""

    dependency: Callable[..., Any]
    provider: Callable[[], Any]


class Provided(Generic[T]):
    def __init__(self, what: str) -> None:
        self.what = what

    def __call__(self) -> T:
        # Only reached when a route is mounted on an app its composition root did not build.
        raise LookupError(f"{self.what}: not provided; build the app with the service's app.py")

    def given(self, value: T) -> Provision:
        return Provision(self, lambda: value)

    def __repr__(self) -> str:
        return f"Provided({self.what!r})"
