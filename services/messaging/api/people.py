"""The per-tenant directory (who holds which role, their email and preferences) and each user's
inbox of what the policy layer told them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path
from pydantic import BaseModel

from services.messaging.api.deps import Deps
from services.messaging.domain.directory import Person
from services.messaging.handlers import notifications
from shared.contracts.roles import OFFICE_ROLES, ROLES
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller
from shared.platform.http.problems import InvalidInput, NotFound

ACCESS: dict[str, Collection[str]] = {
    "put_person": ("production_manager", "service_manager", "billing_manager"),
    "list_people": OFFICE_ROLES,
    "my_inbox": ROLES,
    "read_inbox_item": ROLES,
}

router = GuardedRouter(ACCESS, tags=["notifications"])
AnyCaller = Annotated[Caller, Depends(current_caller)]


class InboxItem(BaseModel):
    item_id: str
    title: str
    body: str
    rule: str
    created_at: datetime
    read_at: datetime | None


@router.put("/people/{user_id}", response_model=Person)
async def put_person(
    user_id: Annotated[str, Path(min_length=1, max_length=100)],
    body: Person,
    deps: Deps,
    caller: AnyCaller,
) -> Person:
    """Who holds which roles in the tenant, their email, email on or off, quiet hours: where
    the policy layer's notify and escalate outcomes go."""
    if body.user_id != user_id:
        raise InvalidInput(
            f"user_id {body.user_id!r} in the body is not {user_id!r} in the path",
            errors=[{"field": "user_id", "message": "must match the path"}],
        )
    return await notifications.put_person(deps, caller.tenant_id, body)


@router.get("/people", response_model=list[Person])
async def list_people(deps: Deps, caller: AnyCaller) -> list[Person]:
    return await notifications.directory(deps, caller.tenant_id)


@router.get("/inbox", response_model=list[InboxItem])
async def my_inbox(deps: Deps, caller: AnyCaller, unread: bool = False) -> list[InboxItem]:
    """What the policy layer told you (notify, escalate, a deadline passed), newest first."""
    items = await notifications.inbox(deps, caller.tenant_id, caller.user_id, unread_only=unread)
    return [InboxItem.model_validate(item) for item in items]


@router.post("/inbox/{item_id}/read", status_code=204)
async def read_inbox_item(
    item_id: Annotated[str, Path(min_length=1, max_length=100)], deps: Deps, caller: AnyCaller
) -> None:
    """Mark one of your inbox items read (``GET /inbox?unread=true`` leaves it out)."""
    if not await notifications.read_inbox_item(deps, caller, item_id):
        raise NotFound(f"no inbox item {item_id}")
