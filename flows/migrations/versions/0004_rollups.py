"""Ledger rollups: running sums per (job, vendor, UTC month, currency) for finance reports,
filled from the entries already there.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BACKFILL = """
INSERT INTO ledger_rollups (job_id, vendor_id, month, currency, cents, slides, deliveries, late,
                            last_delivery_at)
SELECT job_id, vendor_id, month, currency, SUM(amount_cents),
       SUM(CASE WHEN kind IN ('charge', 'reversal') THEN slides ELSE 0 END),
       SUM(CASE WHEN kind = 'charge' AND key LIKE '%:delivery:%' THEN 1 ELSE 0 END),
       SUM(CASE WHEN kind = 'late_credit' THEN 1 ELSE 0 END),
       MAX(CASE WHEN kind = 'charge' AND key LIKE '%:delivery:%' THEN at END)
FROM ledger_entries GROUP BY job_id, vendor_id, month, currency
"""


def upgrade() -> None:
    op.create_table(
        "ledger_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.Column("slides", sa.Integer(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("late", sa.Integer(), nullable=False),
        sa.Column("last_delivery_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_ledger_rollups_job_id_jobs")
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendors.id"], name=op.f("fk_ledger_rollups_vendor_id_vendors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_rollups")),
        sa.UniqueConstraint(
            "job_id",
            "vendor_id",
            "month",
            "currency",
            name=op.f("uq_ledger_rollups_job_id_vendor_id_month_currency"),
        ),
    )
    with op.batch_alter_table("ledger_rollups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_rollups_month"), ["month"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ledger_rollups_vendor_id"), ["vendor_id"], unique=False
        )
    op.execute(BACKFILL)



def downgrade() -> None:
    with op.batch_alter_table("ledger_rollups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_rollups_vendor_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_rollups_month"))

    op.drop_table("ledger_rollups")
