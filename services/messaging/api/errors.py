"""The messaging domain's errors as HTTP problems: the one place they are mapped."""

from __future__ import annotations

from services.messaging.domain import ThreadNotFound
from shared.platform.http.problems import NotFound, Problem

ERRORS: dict[type[Exception], type[Problem]] = {ThreadNotFound: NotFound}
