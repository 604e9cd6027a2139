"""What happens to an email after the server accepted it, as the provider reports it through
its signed webhook (delivered, deferred, bounced, opened) and as the open pixel sees it. A hard
bounce stops every further send to the address."""

from __future__ import annotations

from datetime import timedelta

from services.messaging.domain.webhooks import BadSignature, ProviderWebhook, report_of, verify
from services.messaging.ports import MessagingDeps


async def record_report(deps: MessagingDeps, post: ProviderWebhook) -> str:
    """Check the signature (``BadSignature``), log the report once; what was done, in words."""
    settings, now = deps.settings, deps.clock()
    tolerance = timedelta(seconds=settings.email_webhook_tolerance_s)
    verify(settings.email_webhook_signing_key.get_secret_value(), post.signature, now, tolerance)
    report = report_of(post)
    async with deps.mail_queue() as queue:
        # The signature covers the timestamp and token only: a token is taken once, so a
        # captured signature cannot carry another report.
        if not await queue.first_use(post.signature.token, now, now - 2 * tolerance):
            raise BadSignature("this signature was used before: a replayed post")
        if report is None:
            return f"ignored: {post.event_data.event} events are not tracked"
        email = await queue.report(report)
        if email is None:
            return "ignored: not one of our emails, or reported before"
        stopped = 0
        if report.kind == "bounced":
            stopped = await queue.suppress(
                email.tenant_id,
                email.to_address,
                f"hard bounce: {report.detail or 'bounced'}",
                report.at,
            )
    if report.kind == "bounced":
        deps.metrics.bounces.inc()
        return f"bounced: {email.to_address} gets nothing more ({stopped} queued email(s) stopped)"
    return f"{report.kind}: logged"


async def record_open(deps: MessagingDeps, token: str) -> None:
    """The open pixel was fetched (a forged or unknown token changes nothing)."""
    email_id = deps.links.pixel_email(token)
    if email_id is not None:
        async with deps.mail_queue() as queue:
            await queue.opened(email_id, deps.clock())
