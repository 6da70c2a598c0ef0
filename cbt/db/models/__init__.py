"""The typed models, a module per concern; every model is importable from here (``models.Attempt``)."""

from __future__ import annotations

from cbt.db.models.audit import AuditEvent, Heartbeat
from cbt.db.models.bank import Blueprint, Form, FormItem, Item, ItemVersion, Pack
from cbt.db.models.exam_day import Attempt, Batch, Candidate, CandidateLogin, ExamSession, Pause, Response, Room
from cbt.db.models.proctoring import Incident, Message, MessageAck, RoomRecord, Termination
from cbt.db.models.staff import RoomStaff, Staff, StaffLogin

__all__ = [
    "Attempt",
    "AuditEvent",
    "Batch",
    "Blueprint",
    "Candidate",
    "CandidateLogin",
    "ExamSession",
    "Form",
    "FormItem",
    "Heartbeat",
    "Incident",
    "Item",
    "ItemVersion",
    "Message",
    "MessageAck",
    "Pack",
    "Pause",
    "Response",
    "Room",
    "RoomRecord",
    "RoomStaff",
    "Staff",
    "StaffLogin",
    "Termination",
]
