"""The messaging service's composition root (served by uvicorn with --factory): the only place
that wires anything."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from services.messaging import api, consumers
from services.messaging.api.deps import messaging_deps
from services.messaging.api.errors import ERRORS
from services.messaging.handlers.email_worker import BATCH, send_due
from services.messaging.handlers.gauges import refresh_gauges
from services.messaging.links import Links
from services.messaging.mail import SmtpMailer
from services.messaging.metrics import MessagingMetrics
from services.messaging.ports import MailQueue, MessagingDeps, Stats
from services.messaging.tables import mail_queue, metadata, repositories, stats
from shared.platform.service import Service, ServicePlatform, every
from shared.platform.settings import DEV_LINK_KEY, DEV_WEBHOOK_KEY, Settings, load_settings
from shared.platform.storage.uow import TenantUnitOfWorkFactory

SERVICE = "messaging"
# Where messaging asks the policy layer (it is not ready without valid rules for each).
DECISION_POINTS = ("messaging.send_survey",)
GAUGES_INTERVAL_S = 15.0

log = logging.getLogger(__name__)


def build(settings: Settings | None = None) -> Service[MessagingDeps]:
    platform = ServicePlatform(
        settings or load_settings(SERVICE), metadata, decision_points=DECISION_POINTS
    )
    uows = TenantUnitOfWorkFactory(platform.uow_factory, repositories)
    assert platform.policy is not None
    settings = platform.settings

    @contextlib.asynccontextmanager
    async def queue() -> AsyncIterator[MailQueue]:
        async with platform.uow_factory() as transaction:
            yield mail_queue(transaction.connection)
            await transaction.commit()

    @contextlib.asynccontextmanager
    async def figures() -> AsyncIterator[Stats]:
        async with platform.uow_factory() as transaction:
            yield stats(transaction.connection)

    for key, default, name in (
        (settings.link_signing_key, DEV_LINK_KEY, "ROOFLINE_LINK_SIGNING_KEY"),
        (settings.email_webhook_signing_key, DEV_WEBHOOK_KEY, "ROOFLINE_EMAIL_WEBHOOK_SIGNING_KEY"),
    ):
        if key.get_secret_value() == default:
            log.warning(
                "%s is the public development key: anyone can forge what it signs. Set your "
                "own outside development.",
                name,
            )
    links = Links(settings.link_signing_key.get_secret_value(), settings.public_url)
    deps = MessagingDeps(
        unit_of_work=uows,
        mail_queue=queue,
        mailer=SmtpMailer(settings, links),
        stats=figures,
        policy=platform.policy,
        links=links,
        settings=settings,
        metrics=MessagingMetrics(platform.metrics.registry),
    )
    consumers.register(platform, uows, deps)
    platform.background.append(lambda: email_worker(deps))
    platform.background.append(
        lambda: every(GAUGES_INTERVAL_S, "gauges refresh", lambda: refresh_gauges(deps))
    )
    return Service(platform, deps, routers=api.ROUTERS, provides=messaging_deps, errors=ERRORS)


async def email_worker(deps: MessagingDeps) -> None:
    """Send what is due; rest ``email_send_interval_s`` only when a round did not fill its
    batch (a backlog drains at the worker's pace, not a batch a second)."""
    while True:
        sent = 0
        try:
            sent = await send_due(deps)
        except Exception:
            log.exception("email round failed; retrying next round")
        if sent < BATCH:
            await asyncio.sleep(deps.settings.email_send_interval_s)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build(settings).http_app()
