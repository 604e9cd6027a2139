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
from services.messaging.handlers.email_worker import send_due
from services.messaging.mail import SmtpMailer
from services.messaging.ports import MailQueue, MessagingDeps
from services.messaging.tables import mail_queue, metadata, repositories
from shared.platform.service import Service, ServicePlatform
from shared.platform.settings import Settings, load_settings
from shared.platform.storage.uow import TenantUnitOfWorkFactory

SERVICE = "messaging"

log = logging.getLogger(__name__)


def build(settings: Settings | None = None) -> Service[MessagingDeps]:
    platform = ServicePlatform(settings or load_settings(SERVICE), metadata)
    uows = TenantUnitOfWorkFactory(platform.uow_factory, repositories)
    consumers.register(platform, uows)

    @contextlib.asynccontextmanager
    async def queue() -> AsyncIterator[MailQueue]:
        async with platform.uow_factory() as transaction:
            yield mail_queue(transaction.connection)
            await transaction.commit()

    deps = MessagingDeps(
        unit_of_work=uows,
        mail_queue=queue,
        mailer=SmtpMailer(platform.settings),
        settings=platform.settings,
    )
    platform.background.append(lambda: email_worker(deps))
    return Service(platform, deps, routers=api.ROUTERS, provides=messaging_deps, errors=ERRORS)


async def email_worker(deps: MessagingDeps) -> None:
    """Sends what is due every ``email_send_interval_s`` (a round that fails is retried)."""
    while True:
        try:
            await send_due(deps)
        except Exception:  # the database or the mail server down: the next round tries again
            log.exception("email round failed; retrying next round")
        await asyncio.sleep(deps.settings.email_send_interval_s)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build(settings).http_app()
