"""billing: the finance folder's customer, contract price, financing, release and standing
(open issues, rating, hold, refusals), expenses settled, payment on file; money records;
expenses; the answers to requests made with an
Idempotency-Key; escalations; the billing timeline; expenses; the job's line items; invoices
and their numbers; returned checks

Revision ID: billing_0003
Revises: billing_0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "billing_0003"
down_revision = "billing_0002"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(12, 2)


def upgrade() -> None:
    op.add_column("finance_folders", sa.Column("customer_email", sa.Text))
    op.add_column("finance_folders", sa.Column("customer_phone", sa.Text))
    op.add_column(
        "finance_folders",
        sa.Column("customer_key", sa.Text, nullable=False, server_default=""),
    )
    op.execute("UPDATE finance_folders SET customer_key = lower(trim(customer_name))")
    op.add_column("finance_folders", sa.Column("contract_price", MONEY))
    op.add_column(
        "finance_folders",
        sa.Column("financing", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.add_column(
        "finance_folders",
        sa.Column("completed", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column("finance_folders", sa.Column("released_on", sa.Date))
    op.create_index("ix_finance_folders_customer", "finance_folders", ["tenant_id", "customer_key"])
    op.create_table(
        "money_records",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("record_id", sa.Text, primary_key=True),
        sa.Column("job_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("on", sa.Date, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("method", sa.Text),
        sa.Column("financing", sa.Boolean, nullable=False),
        sa.Column("reverses", sa.Text),
        sa.Column("by", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_money_records_job", "money_records", ["tenant_id", "job_id", "recorded_at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("response", pg.JSONB, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column(
        "finance_folders",
        sa.Column("standing", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.create_table(
        "escalations",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("escalation_id", sa.Text, primary_key=True),
        sa.Column("job_id", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("decided_by", sa.Text),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ux_escalations_open",
        "escalations",
        ["tenant_id", "job_id"],
        unique=True,
        postgresql_where=sa.text("decision IS NULL"),
    )
    op.create_table(
        "billing_timeline",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("job_id", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("by", sa.Text, nullable=False),
    )
    op.create_index("ix_billing_timeline_job", "billing_timeline", ["tenant_id", "job_id", "id"])
    op.add_column(
        "finance_folders",
        sa.Column("expenses_entered", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "finance_folders",
        sa.Column("costs_settled", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column("finance_folders", sa.Column("payment_on_file", pg.JSONB))
    op.create_table(
        "expenses",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("expense_id", sa.Text, primary_key=True),
        sa.Column("job_id", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("vendor", sa.Text, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("incurred_on", sa.Date, nullable=False),
        sa.Column("paid_on", sa.Date),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("by", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_expenses_job", "expenses", ["tenant_id", "job_id", "recorded_at"])
    op.add_column(
        "finance_folders",
        sa.Column("line_items", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    )
    op.create_table(
        "invoices",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("invoice_id", sa.Text, primary_key=True),
        sa.Column("number", sa.Text, nullable=False),
        sa.Column("job_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("bill_to", sa.Text, nullable=False),
        sa.Column("lines", pg.JSONB, nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("paid", MONEY, nullable=False),
        sa.Column("due", MONEY, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("by", sa.Text, nullable=False),
        sa.UniqueConstraint("tenant_id", "number", name="uq_invoices_number"),
    )
    op.create_index("ix_invoices_job", "invoices", ["tenant_id", "job_id"])
    op.create_table(
        "invoice_numbers",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("last_number", sa.Integer, nullable=False),
    )
    op.create_table(
        "returned_checks",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("returned_check_id", sa.Text, primary_key=True),
        sa.Column("job_id", sa.Text, nullable=False),
        sa.Column("data", pg.JSONB, nullable=False),
        sa.Column("closed", sa.Boolean, nullable=False),
    )
    op.create_index("ix_returned_checks_open", "returned_checks", ["tenant_id", "closed"])
