"""tickets: technicians' daily capacity and the visits booked on their days

Revision ID: tickets_0004
Revises: tickets_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "tickets_0004"
down_revision = "tickets_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "technicians",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("daily_visits", sa.Integer),
    )
    op.create_table(
        "ticket_visits",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("ticket_id", sa.Text, primary_key=True),
        sa.Column("technician_id", sa.Text, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
    )
    op.create_index("ix_ticket_visits_day", "ticket_visits", ["tenant_id", "technician_id", "day"])


def downgrade() -> None:
    op.drop_table("ticket_visits")
    op.drop_table("technicians")
