"""What the messaging routes are given by the composition root (``app.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.messaging.ports import MessagingDeps
from shared.platform.http.provided import Provided

messaging_deps = Provided[MessagingDeps]("messaging dependencies")
Deps = Annotated[MessagingDeps, Depends(messaging_deps)]
