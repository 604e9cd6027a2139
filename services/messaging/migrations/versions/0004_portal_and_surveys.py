"""messaging: threads per job, ticket or installer with participants, messages and read
tracking, each user's live feed, the field's view of its work, surveys, suppressed addresses,
and the policy tables (messaging decides when surveys go out). The job threads and crews kept
before move into the new tables.

Revision ID: messaging_0004
Revises: messaging_0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from shared.platform.storage.migrations import create_policy_tables_v1

revision = "messaging_0004"
down_revision = "messaging_0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_policy_tables_v1()
    op.create_table(
        "message_threads",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("thread_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("subject_id", sa.Text),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("opened_by", sa.Text, nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("last_seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_message_at", TS),
        sa.UniqueConstraint("tenant_id", "kind", "subject_id", name="uq_message_threads_subject"),
    )
    op.create_table(
        "thread_participants",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("thread_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("read_up_to", sa.Integer, nullable=False, server_default="0"),
        sa.Column("joined_at", TS, nullable=False),
    )
    op.create_index("ix_thread_participants_user", "thread_participants", ["tenant_id", "user_id"])
    op.create_table(
        "messages",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("thread_id", sa.Text, primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.Text, nullable=False, unique=True),
        sa.Column("author_id", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("attachments", pg.JSONB, nullable=False),
        sa.Column("client_key", sa.Text),
        sa.Column("posted_at", TS, nullable=False),
        sa.UniqueConstraint(
            "tenant_id", "thread_id", "author_id", "client_key", name="uq_messages_client_key"
        ),
    )
    op.create_table(
        "message_reads",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("thread_id", sa.Text, primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("read_at", TS, nullable=False),
        sa.Column("client_read_at", TS),
    )
    op.create_table(
        "user_feed",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("data", pg.JSONB, nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_table(
        "user_feed_counters",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "portal_work",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, primary_key=True),
        sa.Column("subject_id", sa.Text, primary_key=True),
        sa.Column("data", pg.JSONB, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "survey_forms",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("questions", pg.JSONB, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
    )
    op.create_table(
        "surveys",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("survey_id", sa.Text, primary_key=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("subject_id", sa.Text, nullable=False),
        sa.Column("job_id", sa.Text),
        sa.Column("crew_id", sa.Text),
        sa.Column("contact_name", sa.Text),
        sa.Column("contact_email", sa.Text, nullable=False),
        sa.Column("send_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("answered_at", TS),
        sa.Column("form_version", sa.Integer),
        sa.Column("rating", sa.SmallInteger),
        sa.Column("answers", pg.JSONB),
        sa.UniqueConstraint("tenant_id", "subject", "subject_id", name="uq_surveys_subject"),
    )
    op.create_table(
        "suppressed_addresses",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("address", sa.Text, primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_table(
        "webhook_tokens",
        sa.Column("token", sa.Text, primary_key=True),
        sa.Column("at", TS, nullable=False),
    )
    op.add_column("emails", sa.Column("kind", sa.Text, nullable=False, server_default="notice"))
    op.add_column("email_events", sa.Column("provider_event_id", sa.Text, unique=True))
    # The job threads and crews of the thin slice, into the new tables.
    op.execute(
        "INSERT INTO message_threads (tenant_id, thread_id, kind, subject_id, title, opened_by,"
        " opened_at) SELECT tenant_id, thread_id, 'job', job_id, 'Job ' || job_id, 'jobs',"
        " recorded_at FROM threads"
    )
    op.execute(
        "INSERT INTO thread_participants (tenant_id, thread_id, user_id, role, active, joined_at)"
        " SELECT m.tenant_id, t.thread_id, m.user_id, 'field', true, now()"
        " FROM thread_members m JOIN threads t USING (tenant_id, job_id)"
    )
    # What the field sees of those jobs starts from what is known (later events fill it in).
    op.execute(
        "INSERT INTO portal_work (tenant_id, kind, subject_id, data, updated_at)"
        " SELECT tenant_id, 'job', job_id,"
        " jsonb_build_object('kind', 'job', 'subject_id', job_id), now() FROM threads"
    )
    op.drop_table("thread_members")
    op.drop_table("threads")
