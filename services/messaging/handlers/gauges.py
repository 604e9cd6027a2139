"""The messaging gauges, refreshed from the database across tenants (every replica reports the
same figures)."""

from __future__ import annotations

from services.messaging.ports import MessagingDeps

EMAIL_STATES = ("queued", "sending", "sent", "failed", "in_doubt", "bounced")
UNREAD_ROLES = ("installer", "technician", "office")


async def refresh_gauges(deps: MessagingDeps) -> None:
    metrics, now = deps.metrics, deps.clock()
    async with deps.mail_queue() as queue:
        counts = await queue.counts()
    async with deps.stats() as stats:
        oldest = await stats.oldest_unread()
        surveys = await stats.surveys_stats(now)
    for status in EMAIL_STATES:
        metrics.emails.labels(status).set(counts.get(status, 0))
    for role in UNREAD_ROLES:
        at = oldest.get(role)
        metrics.unread_oldest_age.labels(role).set((now - at).total_seconds() if at else 0)
    metrics.survey_response_ratio.set(surveys.answered / surveys.sent if surveys.sent else 0)
    metrics.survey_rating_average.set(float(surveys.average_rating or 0))
