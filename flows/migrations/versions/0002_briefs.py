"""Brief packages: one row per version, and the engagement's opaque job id.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("engagements") as batch:
        batch.add_column(sa.Column("job_id", sa.String(length=40), nullable=True))
        batch.create_unique_constraint("uq_engagements_job_id", ["job_id"])
    op.create_table(
        "briefs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=40), nullable=False),
        sa.Column("inputs_sha256", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=1024), nullable=False),
        sa.Column("zip_key", sa.String(length=1024), nullable=False),
        sa.Column("zip_sha256", sa.String(length=64), nullable=False),
        sa.Column("interviews", sa.Integer(), nullable=False),
        sa.Column("slides", sa.Integer(), nullable=False),
        sa.Column("redactions", json(), nullable=False),
        sa.Column("terms", json(), nullable=False),
        sa.Column("pseudonymised", sa.Boolean(), nullable=False),
        sa.Column("preview", sa.String(length=500), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.ForeignKeyConstraint(["engagement_id"], ["engagements.id"],
                                name="fk_briefs_engagement_id_engagements"),
        sa.PrimaryKeyConstraint("id", name="pk_briefs"),
        sa.UniqueConstraint("engagement_id", "version",
                            name="uq_briefs_engagement_id_version"),
    )
    op.create_index("ix_briefs_engagement_id", "briefs", ["engagement_id"])


def downgrade() -> None:
    op.drop_index("ix_briefs_engagement_id", table_name="briefs")
    op.drop_table("briefs")
    with op.batch_alter_table("engagements") as batch:
        batch.drop_constraint("uq_engagements_job_id", type_="unique")
        batch.drop_column("job_id")
