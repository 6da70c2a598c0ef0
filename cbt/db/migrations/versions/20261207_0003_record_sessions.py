"""Room records per session: every incident names the exam session it belongs to (the record of a
room and session holds all of its events), and page signals are coalesced per candidate and kind.

Existing incidents get their session from their attempt, or else the room's batch session that had
started by then (the latest such).

Revision ID: 20261207_0003
Revises: 20261126_0002
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "20261207_0003"
down_revision = "20261126_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_incidents_session_id_exam_sessions"), "exam_sessions", ["session_id"], ["id"])
        batch.create_index("ix_incidents_room_session", ["room_id", "session_id", "id"])
        batch.create_index("ix_incidents_candidate_kind_at", ["candidate_id", "kind", "at"])
    op.execute(
        "UPDATE incidents SET session_id = (SELECT a.session_id FROM attempts a WHERE a.id = incidents.attempt_id)"
        " WHERE attempt_id IS NOT NULL"
    )
    op.execute(
        "UPDATE incidents SET session_id = (SELECT s.id FROM exam_sessions s JOIN rooms r ON r.batch_id = s.batch_id"
        " WHERE r.id = incidents.room_id AND s.starts_at <= incidents.at ORDER BY s.starts_at DESC, s.id DESC LIMIT 1)"
        " WHERE session_id IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_index("ix_incidents_candidate_kind_at")
        batch.drop_index("ix_incidents_room_session")
        batch.drop_constraint(op.f("fk_incidents_session_id_exam_sessions"), type_="foreignkey")
        batch.drop_column("session_id")
