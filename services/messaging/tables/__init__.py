"""The messaging schema and the repositories implementing its ports: threads and messages
(``threads``), what the field sees of its work (``portal``), the directory, inbox and email
queue (``notices``) and surveys (``surveys``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.messaging.ports import MessagingRepositories
from services.messaging.tables.notices import (
    DirectoryRepository,
    MailQueueRepository,
    NoticeRepository,
    notification_tables,
)
from services.messaging.tables.portal import PortalRepository, portal_tables
from services.messaging.tables.stats import StatsRepository
from services.messaging.tables.surveys import SurveyRepository, survey_tables
from services.messaging.tables.threads import FeedRepository, ThreadRepository, thread_tables
from shared.platform.storage.db import PlatformTables

metadata = sa.MetaData()
platform_tables = PlatformTables(metadata)
threads = thread_tables(metadata)
portal = portal_tables(metadata)
notices = notification_tables(metadata)
surveys = survey_tables(metadata)


def repositories(connection: AsyncConnection, tenant_id: str) -> MessagingRepositories:
    return MessagingRepositories(
        threads=ThreadRepository(connection, tenant_id, threads),
        feed=FeedRepository(connection, tenant_id, threads),
        portal=PortalRepository(connection, tenant_id, portal, threads),
        directory=DirectoryRepository(connection, tenant_id, notices),
        notices=NoticeRepository(connection, tenant_id, notices),
        surveys=SurveyRepository(connection, tenant_id, surveys),
    )


def mail_queue(connection: AsyncConnection) -> MailQueueRepository:
    return MailQueueRepository(connection, notices)


def stats(connection: AsyncConnection) -> StatsRepository:
    return StatsRepository(connection, threads, surveys, notices["emails"])
