"""jobs: the job as a document, job numbers, audit trail, crews and their bookings

Revision ID: jobs_0003
Revises: jobs_0002

Leads stored by the first slice (name, phone, email, address, salesman) become job documents.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "jobs_0003"
down_revision = "jobs_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("version", sa.Integer, nullable=False, server_default="1"))
    op.add_column("jobs", sa.Column("job_number", sa.Text))
    op.add_column("jobs", sa.Column("production_status", sa.Text))
    op.add_column("jobs", sa.Column("assigned", sa.Boolean, nullable=False, server_default="true"))
    op.add_column("jobs", sa.Column("crew_id", sa.Text))
    op.add_column("jobs", sa.Column("contract_price", sa.Numeric(12, 2)))
    op.add_column("jobs", sa.Column("data", pg.JSONB))
    op.add_column("jobs", sa.Column("updated_at", sa.DateTime(timezone=True)))
    op.execute(
        """
        UPDATE jobs SET data = jsonb_build_object(
            'tenant_id', tenant_id, 'job_id', job_id, 'version', 1,
            'created_by', salesman_id, 'created_at', to_jsonb(created_at),
            'customer', jsonb_strip_nulls(
                jsonb_build_object('name', customer_name, 'phone', phone, 'email', email)),
            'address', jsonb_build_object('line', property_address),
            'team', jsonb_build_object('sales_rep_id', salesman_id),
            'milestone', milestone)
        """
    )
    op.alter_column("jobs", "data", nullable=False)
    for column in ("version", "assigned"):
        op.alter_column("jobs", column, server_default=None)
    for column in ("phone", "email", "salesman_id"):
        op.drop_column("jobs", column)

    op.create_table(
        "job_numbers",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("last_number", sa.Integer, nullable=False),
    )
    op.create_table(
        "job_audit",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("job_id", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("detail", pg.JSONB, nullable=False),
    )
    op.create_index("ix_job_audit_job", "job_audit", ["tenant_id", "job_id", "id"])
    op.create_table(
        "crews",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("crew_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("data", pg.JSONB, nullable=False),
    )
    op.create_table(
        "crew_bookings",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("crew_id", sa.Text, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("job_id", sa.Text, primary_key=True),
    )
