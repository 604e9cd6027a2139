"""The jobs domain's errors. Handlers raise these and nothing HTTP; ``api/errors.py`` says which
problem each is answered with."""

from __future__ import annotations


class JobRuleBroken(Exception):
    """The command cannot apply to the job as it is (answered 409); nothing changed."""


class JobNotFound(LookupError):
    """No such job in the caller's tenant, or one an installer's crew is not on: both look the
    same, so a job's existence never leaks (answered 404)."""


class CrewNotFound(LookupError):
    """No such crew in the caller's tenant (answered 404)."""
