"""What the commissions routes are given by the composition root (``app.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.commissions.ports import CommissionsDeps
from shared.platform.http.provided import Provided

commissions_deps = Provided[CommissionsDeps]("commissions dependencies")
Deps = Annotated[CommissionsDeps, Depends(commissions_deps)]
