"""Engagement vocabulary: names, companies and products the speech model should spell right
(engagement.yaml ``vocabulary:``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    with op.batch_alter_table("engagements") as batch:
        batch.add_column(sa.Column("vocabulary", json, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("engagements") as batch:
        batch.drop_column("vocabulary")
