"""The billing domain's errors as HTTP problems: the one place they are mapped."""

from __future__ import annotations

from services.billing.domain import FolderNotFound
from shared.platform.http.problems import NotFound, Problem

ERRORS: dict[type[Exception], type[Problem]] = {FolderNotFound: NotFound}
