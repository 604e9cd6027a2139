"""The tickets domain's errors as HTTP problems: the one place they are mapped."""

from __future__ import annotations

from services.tickets.domain import CustomerNotFound
from shared.platform.http.problems import NotFound, Problem

ERRORS: dict[type[Exception], type[Problem]] = {CustomerNotFound: NotFound}
