"""Server-side staff sessions: a sign-in is a row that sign-out, a password reset or deactivation
ends, so a replayed cookie or socket token of an ended session is refused.

Revision ID: 20261207_0004
Revises: 20261207_0003
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "20261207_0004"
down_revision = "20261207_0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff_logins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("ended_reason", sa.String(32), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_logins")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_staff_logins_staff_id_staff")),
        sa.UniqueConstraint("token", name=op.f("uq_staff_logins_token")),
    )
    op.create_index(op.f("ix_staff_logins_staff_id"), "staff_logins", ["staff_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_staff_logins_staff_id"), table_name="staff_logins")
    op.drop_table("staff_logins")
