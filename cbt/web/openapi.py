"""OpenAPI 3.1 description of the candidate and proctor APIs, served at /api/openapi.json. Request
bodies are generated from the schemas the server checks them against (cbt.inputs)."""

from __future__ import annotations

from typing import Any

from cbt import inputs


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _ok(schema: str, description: str = "OK") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


CSRF = [{"name": "X-CSRF-Token", "in": "header", "required": True, "schema": {"type": "string"}}]
OPTION = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "text": {"type": "string"}},
    "required": ["id", "text"],
}
QUESTION = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "type": {"enum": ["single", "multiple", "judge"]},
        "type_name": {"type": "string"},
        "stem": {"type": "string", "description": "sanitised HTML"},
        "points": {"type": "integer"},
        "options": {"type": "array", "items": OPTION},
    },
    "required": ["id", "type", "stem", "options"],
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "cbt candidate API",
        "version": "1",
        "description": "Exam delivery for candidates. Errors are JSON {error, message}. State-changing calls need the "
        "session cookie from login and the X-CSRF-Token header with the csrf_token it returned. The server owns the "
        "time: remaining_seconds in every reply is authoritative. Answer keys never appear in any reply.",
    },
    "paths": {
        "/api/v1/candidate/login": {
            "post": {
                "summary": "Log in with admission ticket and ID number (ends any older login of the same candidate)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": inputs.Login.model_json_schema()}},
                },
                "responses": {
                    "200": _ok("Login"),
                    "400": _error("bad_json"),
                    "401": _error("invalid_credentials (nothing says which half was wrong)"),
                    "422": _error("missing_credentials"),
                    "429": _error("too_many_attempts"),
                },
            }
        },
        "/api/v1/candidate/logout": {
            "post": {"summary": "Log out", "parameters": CSRF, "responses": {"200": {"description": "logged out"}}}
        },
        "/api/v1/candidate/status": {
            "get": {
                "summary": "Who the candidate is and the state of each session",
                "responses": {"200": _ok("Status"), "401": _error("not_logged_in | session_replaced")},
            }
        },
        "/api/v1/candidate/attempt/start": {
            "post": {
                "summary": "Start the current session's attempt (idempotent)",
                "parameters": CSRF,
                "responses": {
                    "200": _ok("Attempt"),
                    "403": _error("csrf_failed"),
                    "409": _error("session_not_open | no_attempt"),
                },
            }
        },
        "/api/v1/candidate/attempt": {
            "get": {
                "summary": "The candidate's paper in their own order, with their saved answers",
                "responses": {"200": _ok("Attempt"), "409": _error("attempt_not_started")},
            }
        },
        "/api/v1/candidate/attempt/responses/{question_id}": {
            "put": {
                "summary": "Save one answer; applied only if seq is newer than the stored one",
                "parameters": [
                    {"name": "question_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    *CSRF,
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "answer": {"type": "array", "items": {"type": "string"}},
                                    "seq": {"type": "integer", "minimum": 1},
                                },
                                "required": ["answer", "seq"],
                            }
                        }
                    },
                },
                "responses": {
                    "200": _ok("Saved", "durable: sent only after the commit; a stale seq returns the stored seq"),
                    "404": _error("unknown_question"),
                    "409": _error("attempt_closed | deadline_passed | attempt_not_started"),
                    "413": _error("request_entity_too_large"),
                    "422": _error("invalid_answer | invalid_seq"),
                    "503": _error("server_busy (keep the answer and send it again; a repeat changes nothing)"),
                },
            }
        },
        "/api/v1/candidate/attempt/submit": {
            "post": {
                "summary": "Hand in (交卷); repeating returns the same receipt",
                "parameters": CSRF,
                "responses": {"200": _ok("Submitted"), "409": _error("attempt_not_started")},
            }
        },
    },
    "components": {
        "schemas": {
            "Error": {
                "type": "object",
                "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
                "required": ["error", "message"],
            },
            "Candidate": {
                "type": "object",
                "properties": {
                    k: {"type": "string"}
                    for k in (
                        "ticket",
                        "name",
                        "id_number",
                        "level_name",
                        "occupation",
                        "room",
                        "seat",
                        "batch",
                        "mode",
                    )
                }
                | {"level": {"type": "integer"}},
            },
            "Login": {
                "type": "object",
                "properties": {
                    "candidate": {"$ref": "#/components/schemas/Candidate"},
                    "csrf_token": {"type": "string"},
                },
            },
            "Status": {
                "type": "object",
                "properties": {
                    "candidate": {"$ref": "#/components/schemas/Candidate"},
                    "current": {"type": ["string", "null"]},
                    "server_time": {"type": "string"},
                    "sessions": {"type": "array", "items": {"type": "object"}},
                    "csrf_token": {"type": "string"},
                },
            },
            "Attempt": {
                "type": "object",
                "properties": {
                    "attempt_id": {"type": "integer"},
                    "part": {"enum": ["theory", "skill"]},
                    "state": {"enum": ["in_progress", "paused", "submitted"]},
                    "remaining_seconds": {"type": "integer"},
                    "receipt": {"type": ["string", "null"]},
                    "items": {
                        "type": "array",
                        "items": {
                            "oneOf": [
                                QUESTION,
                                {
                                    "type": "object",
                                    "properties": {
                                        "id": {"type": "string"},
                                        "type": {"const": "case"},
                                        "stem": {"type": "string"},
                                        "points": {"type": "integer"},
                                        "questions": {"type": "array", "items": QUESTION},
                                    },
                                },
                            ]
                        },
                    },
                    "responses": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "properties": {
                                "answer": {"type": "array", "items": {"type": "string"}},
                                "seq": {"type": "integer"},
                            },
                        },
                    },
                },
                "required": ["attempt_id", "part", "state", "remaining_seconds", "items", "responses"],
            },
            "Saved": {
                "type": "object",
                "properties": {
                    "question_id": {"type": "string"},
                    "seq": {"type": "integer"},
                    "saved_at": {"type": "string"},
                    "remaining_seconds": {"type": "integer"},
                    "stale": {"type": "boolean"},
                },
            },
            "Submitted": {
                "type": "object",
                "properties": {
                    "state": {"const": "submitted"},
                    "receipt": {"type": "string"},
                    "submitted_at": {"type": "string"},
                    "answered": {"type": "integer"},
                    "questions": {"type": "integer"},
                },
            },
        }
    },
}


# The proctor API: each action's body is its schema in cbt.inputs; the staff session cookie and its
# CSRF token as for the candidate API.
PROCTOR_ACTIONS: dict[str, tuple[type[inputs.Schema], str]] = {
    "admit": (inputs.ForCandidate, "核验身份，允许入场 (one candidate, or every one present)"),
    "start": (inputs.Schema, "统一开考"),
    "pause": (inputs.WithReason, "Pause one candidate or the room (a reason is required)"),
    "resume": (inputs.ForCandidate, "Resume one candidate or the room"),
    "extend": (inputs.Extend, "Extend one candidate's or the room's time (minutes and a reason)"),
    "message": (inputs.Message, "A message to one candidate, or to the room"),
    "submit": (inputs.OneWithReason, "Force one candidate's hand-in (a reason is required)"),
    "terminations": (inputs.OneWithReason, "Request 违纪终止 (a second proctor confirms)"),
    "move": (inputs.Move, "换机: the candidate continues on another, free seat"),
    "unlock": (inputs.ForOneCandidate, "Lift a candidate's login lockout"),
    "incidents": (inputs.Note, "Write a note into the room record of a session"),
    "sign": (inputs.Sign, "Sign the room record of a session"),
}
ROOM = {"name": "room_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
ACTION_ERRORS = {
    "400": _error("bad_json"),
    "401": _error("not_logged_in"),
    "403": _error("csrf_failed | not_your_room | read_only"),
    "404": _error("room_not_found | candidate_not_in_room | session_not_in_batch"),
    "409": _error("record_signed | seat_taken | ..."),
    "422": _error("bad_<field> | reason_required | ..."),
}
for _action, (_schema, _summary) in PROCTOR_ACTIONS.items():
    OPENAPI["paths"][f"/api/v1/proctor/rooms/{{room_id}}/{_action}"] = {
        "post": {
            "summary": _summary,
            "parameters": [ROOM, *CSRF],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _schema.model_json_schema()}}},
            "responses": {"200": {"description": "done"}, **ACTION_ERRORS},
        }
    }
OPENAPI["paths"]["/api/v1/proctor/rooms/{room_id}"] = {
    "get": {
        "summary": "The room's dashboard view of a session (default: the one it runs)",
        "parameters": [ROOM, {"name": "session", "in": "query", "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "tiles, summary, staffing, the newest events"}, **ACTION_ERRORS},
    }
}
OPENAPI["paths"]["/api/v1/proctor/rooms/{room_id}/events"] = {
    "get": {
        "summary": "A page of older events of the room's record of a session",
        "parameters": [
            ROOM,
            {"name": "session", "in": "query", "required": True, "schema": {"type": "integer"}},
            {"name": "before", "in": "query", "schema": {"type": "integer"}},
        ],
        "responses": {"200": {"description": "{events, more}"}, **ACTION_ERRORS},
    }
}
