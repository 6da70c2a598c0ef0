"""Exam day: batches, sessions, rooms, candidates, attempts, responses, logins, incidents, pauses,
staff and room assignments, messages, terminations and signed room records.

Revision ID: 20261126_0002
Revises: 20261126_0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "20261126_0002"
down_revision = "20261126_0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("pack_id", sa.Integer(), nullable=False),
        sa.Column("show_scores", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _pk("batches"),
        _fk("batches", "pack_id", "packs"),
        sa.UniqueConstraint("code", name=op.f("uq_batches_code")),
    )
    op.create_table(
        "exam_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(16), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("requires_admission", sa.Boolean(), nullable=False),
        _pk("exam_sessions"),
        _fk("exam_sessions", "batch_id", "batches"),
        sa.UniqueConstraint("batch_id", "part", name=op.f("uq_exam_sessions_batch_id")),
    )
    op.create_index(op.f("ix_exam_sessions_batch_id"), "exam_sessions", ["batch_id"])
    op.create_table(
        "rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        _pk("rooms"),
        _fk("rooms", "batch_id", "batches"),
        sa.UniqueConstraint("batch_id", "code", name=op.f("uq_rooms_batch_id")),
    )
    op.create_index(op.f("ix_rooms_batch_id"), "rooms", ["batch_id"])
    op.create_table(
        "candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("ticket", sa.String(32), nullable=False),
        sa.Column("id_number", sa.String(18), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("seat", sa.String(16), nullable=False),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.Column("photo_type", sa.String(32), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", TS, nullable=True),
        _pk("candidates"),
        _fk("candidates", "batch_id", "batches"),
        _fk("candidates", "room_id", "rooms"),
        sa.UniqueConstraint("ticket", name=op.f("uq_candidates_ticket")),
    )
    op.create_index(op.f("ix_candidates_batch_id"), "candidates", ["batch_id"])
    op.create_index(op.f("ix_candidates_room_id"), "candidates", ["room_id"])
    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("order", sa.JSON(), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("extension_seconds", sa.Integer(), nullable=False),
        sa.Column("admitted_at", TS, nullable=True),
        sa.Column("admitted_by", sa.String(64), nullable=True),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("submitted_at", TS, nullable=True),
        sa.Column("submit_reason", sa.String(16), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.Column("receipt", sa.String(16), nullable=True),
        sa.Column("score", sa.JSON(), nullable=True),
        _pk("attempts"),
        _fk("attempts", "candidate_id", "candidates"),
        _fk("attempts", "session_id", "exam_sessions"),
        _fk("attempts", "form_id", "forms"),
        sa.UniqueConstraint("candidate_id", "session_id", name=op.f("uq_attempts_candidate_id")),
    )
    op.create_index(op.f("ix_attempts_candidate_id"), "attempts", ["candidate_id"])
    op.create_index(op.f("ix_attempts_session_id"), "attempts", ["session_id"])
    op.create_table(
        "responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(80), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("saved_at", TS, nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        _pk("responses"),
        _fk("responses", "attempt_id", "attempts"),
        sa.UniqueConstraint("attempt_id", "question_id", name=op.f("uq_responses_attempt_id")),
    )
    op.create_index(op.f("ix_responses_attempt_id"), "responses", ["attempt_id"])
    op.create_table(
        "candidate_logins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("ended_reason", sa.String(32), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(300), nullable=True),
        _pk("candidate_logins"),
        _fk("candidate_logins", "candidate_id", "candidates"),
        sa.UniqueConstraint("token", name=op.f("uq_candidate_logins_token")),
    )
    op.create_index(op.f("ix_candidate_logins_candidate_id"), "candidate_logins", ["candidate_id"])
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("category", sa.String(16), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", TS, nullable=False),
        _pk("incidents"),
        _fk("incidents", "room_id", "rooms"),
        _fk("incidents", "candidate_id", "candidates"),
        _fk("incidents", "attempt_id", "attempts"),
    )
    op.create_index(op.f("ix_incidents_candidate_id"), "incidents", ["candidate_id"])
    op.create_index(op.f("ix_incidents_room_id"), "incidents", ["room_id"])
    op.create_table(
        "pauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("start", TS, nullable=False),
        sa.Column("end", TS, nullable=True),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _pk("pauses"),
        _fk("pauses", "attempt_id", "attempts"),
    )
    op.create_index(op.f("ix_pauses_attempt_id"), "pauses", ["attempt_id"])
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        _pk("staff"),
        sa.UniqueConstraint("username", name=op.f("uq_staff_username")),
    )
    op.create_table(
        "room_staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", TS, nullable=True),
        _pk("room_staff"),
        _fk("room_staff", "room_id", "rooms"),
        _fk("room_staff", "staff_id", "staff"),
        sa.UniqueConstraint("room_id", "staff_id", name=op.f("uq_room_staff_room_id")),
    )
    op.create_index(op.f("ix_room_staff_room_id"), "room_staff", ["room_id"])
    op.create_index(op.f("ix_room_staff_staff_id"), "room_staff", ["staff_id"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sent_at", TS, nullable=False),
        sa.Column("sent_by", sa.String(64), nullable=False),
        _pk("messages"),
        _fk("messages", "room_id", "rooms"),
        _fk("messages", "candidate_id", "candidates"),
    )
    op.create_index(op.f("ix_messages_room_id"), "messages", ["room_id"])
    op.create_table(
        "message_acks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("acked_at", TS, nullable=False),
        _pk("message_acks"),
        _fk("message_acks", "message_id", "messages"),
        _fk("message_acks", "candidate_id", "candidates"),
        sa.UniqueConstraint("message_id", "candidate_id", name=op.f("uq_message_acks_message_id")),
    )
    op.create_index(op.f("ix_message_acks_message_id"), "message_acks", ["message_id"])
    op.create_table(
        "terminations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("confirmed_by", sa.String(64), nullable=True),
        sa.Column("confirmed_at", TS, nullable=True),
        _pk("terminations"),
        _fk("terminations", "attempt_id", "attempts"),
    )
    op.create_index(op.f("ix_terminations_attempt_id"), "terminations", ["attempt_id"])
    op.create_table(
        "room_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("signatures", sa.JSON(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("signed_at", TS, nullable=False),
        _pk("room_records"),
        _fk("room_records", "room_id", "rooms"),
        _fk("room_records", "session_id", "exam_sessions"),
        sa.UniqueConstraint("room_id", "session_id", name=op.f("uq_room_records_room_id")),
    )


def downgrade() -> None:
    for table in (
        "room_records",
        "terminations",
        "message_acks",
        "messages",
        "room_staff",
        "staff",
        "pauses",
        "incidents",
        "candidate_logins",
        "responses",
        "attempts",
        "candidates",
        "rooms",
        "exam_sessions",
        "batches",
    ):
        op.drop_table(table)
