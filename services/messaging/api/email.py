"""What happens to emails after they leave: the provider's signed delivery webhook (Mailgun's
shape: delivered, failed temporary or permanent, opened) and the open-tracking pixel; and each
email's event log for the office."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from fastapi import Path, Response
from pydantic import BaseModel

from services.messaging.api.common import AnyCaller, Id
from services.messaging.api.deps import Deps
from services.messaging.domain.webhooks import ProviderWebhook
from services.messaging.handlers import email_reports, notifications
from shared.contracts.roles import OFFICE_ROLES
from shared.platform.http.access import GuardedRouter, PublicRouter
from shared.platform.http.problems import NotFound

PUBLIC = {
    "delivery_webhook": "the email provider posts delivery reports (checked: HMAC signature)",
    "open_pixel": "an email client fetches the open-tracking pixel (checked: signed link)",
}
ACCESS = {
    "email_log": OFFICE_ROLES,
    "requeue_email": ("production_manager", "service_manager", "billing_manager"),
}

public = PublicRouter(PUBLIC, tags=["email"])
router = GuardedRouter(ACCESS, tags=["email"])

# A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


class WebhookAnswer(BaseModel):
    result: str


class EmailStep(BaseModel):
    status: str
    at: datetime
    detail: str | None


@public.post("/email/webhooks/provider", response_model=WebhookAnswer)
async def delivery_webhook(body: ProviderWebhook, deps: Deps) -> WebhookAnswer:
    """A delivery report for one of our emails: delivered, failed (``severity`` permanent is a
    hard bounce: the address gets nothing more) or opened. Signed with
    ``ROOFLINE_EMAIL_WEBHOOK_SIGNING_KEY``; a post signed too long ago is refused."""
    return WebhookAnswer(result=await email_reports.record_report(deps, body))


@public.get(
    "/email/open/{token}.gif",
    response_class=Response,
    responses={
        200: {
            "description": "A 1x1 transparent GIF (whatever the token: nothing is revealed).",
            "content": {"image/gif": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def open_pixel(
    token: Annotated[str, Path(min_length=10, max_length=300)], deps: Deps
) -> Response:
    await email_reports.record_open(deps, token)
    return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})


@router.get("/emails/{email_id}/log", response_model=list[EmailStep])
async def email_log(email_id: Id, deps: Deps, caller: AnyCaller) -> list[EmailStep]:
    """Every step of the email: queued, sending, sent, deferred, delivered, bounced, opened..."""
    steps = await notifications.email_log(deps, caller.tenant_id, email_id)
    if not steps:
        raise NotFound(f"no email {email_id}")
    return [EmailStep(status=s, at=at, detail=detail) for s, at, detail in steps]


class Requeued(BaseModel):
    email_id: str
    status: str


@router.post("/emails/{email_id}/requeue", response_model=Requeued)
async def requeue_email(email_id: Id, deps: Deps, caller: AnyCaller) -> Requeued:
    """Send again an email held in doubt (a crash cut its send off after the server may have
    accepted it: it may arrive twice) or failed. One to an address that bounced stays failed;
    any other status is answered as it is, unchanged."""
    status = await notifications.requeue_email(deps, caller, email_id)
    if status is None:
        raise NotFound(f"no email {email_id}")
    return Requeued(email_id=email_id, status=status)
