"""Alembic, run per service: each service's ``migrations/`` folder, on its own schema.

``migrate(settings, "services.jobs")`` creates the schema if needed and upgrades it to head. A
service's ``migrations/env.py`` is two lines: import its metadata and call ``run_env(metadata)``.
The version table lives in the service's schema, so services migrate independently.
"""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy.dialects import postgresql as pg

from shared.platform.settings import Settings
from shared.platform.storage.db import checked_schema, create_engine


def alembic_config(settings: Settings, package: str) -> Config:
    config = Config()
    config.set_main_option("script_location", f"{package}:migrations")
    config.attributes["settings"] = settings
    return config


def migrate(settings: Settings, package: str, revision: str = "head") -> None:
    """Upgrade the service's schema to ``revision`` (synchronous; run before it starts)."""
    command.upgrade(alembic_config(settings, package), revision)


def run_env(metadata: sa.MetaData) -> None:
    """The body of every service's ``migrations/env.py``."""
    settings: Settings = context.config.attributes["settings"]
    schema = checked_schema(settings.schema_name)

    def run(connection: sa.Connection) -> None:
        connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        # search_path = the service's schema; no statement timeout (a migration may be long)
        engine = create_engine(settings, command_timeout=False)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(run)
        finally:
            await engine.dispose()

    asyncio.run(main())


def create_platform_tables_v1(**_: Any) -> None:
    """Revision helper: the outbox and inbox as of platform v1 (frozen; later changes are new
    revisions, never edits here)."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("event_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ix_outbox_unsent", "outbox", ["id"], postgresql_where=sa.text("sent_at IS NULL")
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def create_policy_tables_v1(**_: Any) -> None:
    """Revision helper: the policy decision log and deadlines as of policy layer v1 (frozen)."""
    op.create_table(
        "policy_decisions",
        sa.Column("decision_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column(
            "decided_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("decision_point", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("facts", pg.JSONB, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("matched", pg.JSONB, nullable=False),
        sa.Column("policies", pg.JSONB, nullable=False),
        sa.Column("policy_hash", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
    )
    op.create_index("ix_policy_decisions_time", "policy_decisions", ["decided_at"])
    op.create_index("ix_policy_decisions_subject", "policy_decisions", ["tenant_id", "subject"])
    op.create_table(
        "policy_deadlines",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("task", sa.Text, nullable=False),
        sa.Column("decision_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("escalate_to", sa.Text),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ux_policy_deadlines_open",
        "policy_deadlines",
        ["tenant_id", "subject", "task"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "ix_policy_deadlines_due",
        "policy_deadlines",
        ["due_at"],
        postgresql_where=sa.text("status = 'open'"),
    )
