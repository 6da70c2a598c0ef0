"""Heartbeats: /healthz proves the database takes writes with a real one, through the writer.

Revision ID: 20261207_0005
Revises: 20261207_0004
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "20261207_0005"
down_revision = "20261207_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "heartbeats",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("heartbeats")
