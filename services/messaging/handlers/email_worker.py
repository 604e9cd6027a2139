"""The email worker: sends what is due, once. Each claim commits before its send (the email is
``sending`` under a lease); the outcome commits after it: sent, deferred with backoff, or failed.
An email still ``sending`` past its lease was cut off between the server's acceptance and this
bookkeeping (a crash): it is held ``in_doubt`` and never sent again by itself."""

from __future__ import annotations

from datetime import timedelta

from services.messaging.domain.email import MailRefused, after_failure
from services.messaging.ports import MailQueue, MessagingDeps

BATCH = 50


async def send_due(deps: MessagingDeps) -> int:
    """One round: hold the cut-off sends, then up to ``BATCH`` emails, each claimed just before
    it is sent (its lease covers its own send, never a wait behind others) and its outcome
    recorded in the transaction that claims the next. Returns how many were sent."""
    lease = timedelta(seconds=deps.settings.email_lease_s)
    async with deps.mail_queue() as queue:
        await queue.hold_cut_off(deps.clock())
        claimed = await queue.claim_due(deps.clock(), lease, 1)
    sent = 0
    for turn in range(1, BATCH + 1):
        if not claimed:
            break
        (email,) = claimed
        refused: MailRefused | None = None
        try:
            await deps.mailer.send(email)
        except MailRefused as exc:
            refused = exc
        async with deps.mail_queue() as queue:
            if refused is None:
                await queue.settle(email.email_id, "sent", deps.clock())
                sent += 1
            else:
                await _failed(deps, queue, email.email_id, refused)
            claimed = await queue.claim_due(deps.clock(), lease, 1) if turn < BATCH else []
    return sent


async def _failed(
    deps: MessagingDeps, queue: MailQueue, email_id: str, refused: MailRefused
) -> None:
    settings = deps.settings
    attempts = await queue.attempts(email_id)
    status, retry_at = after_failure(
        attempts,
        settings.email_max_attempts,
        permanent=refused.permanent,
        now=deps.clock(),
        base_s=settings.email_retry_backoff_s,
    )
    if status == "queued":
        deps.metrics.send_retries.inc()
    await queue.settle(
        email_id, status, deps.clock(), next_attempt_at=retry_at, detail=str(refused)
    )
