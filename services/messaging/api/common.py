"""What the messaging routers share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from shared.platform.http.auth import Caller, current_caller

# An identifier in a path (a thread, job, ticket or user).
Id = Annotated[str, Path(min_length=1, max_length=100)]
AnyCaller = Annotated[Caller, Depends(current_caller)]
