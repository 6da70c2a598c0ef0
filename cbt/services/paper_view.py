"""The candidate's view of a paper, as JSON: the paper's snapshot loaded once per process (forms are
immutable), its questions and cases encoded once, and each candidate's paper put together from those
pieces in their own option and item order. Never any key: the pieces hold ids, stems, option texts
and points only (the shapes the OpenAPI contract in cbt/web/openapi.py describes)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from cbt.core.assembly import Form
from cbt.core.items import TYPE_NAMES, Item, Question
from cbt.services.papers import load_form


@dataclass(frozen=True)
class Paper:
    form: Form
    questions: dict[str, tuple[Question, int]]  # question id -> (question, points)
    # The candidate's view of it, encoded once: every candidate's paper is these pieces in their own
    # order (the start storm sends thousands at once; encoding each anew was a third of a start).
    question_json: dict[str, tuple[str, dict[str, str]]]  # question id -> (JSON up to its options, option id -> JSON)
    case_json: dict[str, str]  # case item id -> its JSON up to its questions
    # Each question as delivered with its options in one order, filled as candidates start: with four
    # options there are 24 orders, so after the first few hundred starts every question is a lookup.
    delivered_json: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)


_papers: dict[int, Paper] = {}
_papers_lock = threading.Lock()


def paper(session: Session, form_id: int) -> Paper:
    found = _papers.get(form_id)
    if found is None:
        form = load_form(session, form_id)
        questions = {q.id: (q, e.points) for e in form.entries for q in e.item.questions}
        found = Paper(
            form,
            questions,
            {q.id: _question_json(q, points) for q, points in questions.values()},
            {e.item.id: _case_json(e.item, e.total) for e in form.entries if e.item.is_case},
        )
        with _papers_lock:
            _papers[form_id] = found
    return found


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _question_json(q: Question, points: int) -> tuple[str, dict[str, str]]:
    head = _json({"id": q.id, "type": q.type, "type_name": TYPE_NAMES[q.type], "stem": q.stem, "points": points})
    return head[:-1] + ',"options":[', {o.id: _json({"id": o.id, "text": o.text}) for o in q.options}


def _case_json(item: Item, points: int) -> str:
    head = _json({"id": item.id, "type": "case", "type_name": TYPE_NAMES["case"], "stem": item.stem, "points": points})
    return head[:-1] + ',"questions":['


def paper_json(p: Paper, head: dict[str, Any], order: list[dict]) -> str:
    """The candidate's paper: ``head`` (their attempt's state and saved answers) and its items in
    ``order`` (the attempt's own order of items, questions and options)."""
    items = ",".join(_item_json(p, entry) for entry in order)
    return _json(head)[:-1] + ',"items":[' + items + "]}"


def _item_json(p: Paper, entry: dict) -> str:
    """One item of the paper: a question with its options in the candidate's order, or a case with
    its questions so."""
    questions = []
    for delivered in entry["questions"]:
        key = (delivered["id"], tuple(delivered["options"]))
        text = p.delivered_json.get(key)
        if text is None:
            head, options = p.question_json[key[0]]
            text = p.delivered_json[key] = head + ",".join([options[o] for o in key[1]]) + "]}"
        questions.append(text)
    case = p.case_json.get(entry["id"])
    return questions[0] if case is None else case + ",".join(questions) + "]}"
