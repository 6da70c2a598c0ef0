"""Scoring a submitted attempt: objective questions by their type's rule, on the 100-point scale."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cbt.core.items import Question, question_type


@dataclass(frozen=True)
class Score:
    points: dict[str, int]  # question id -> points earned
    total: int
    maximum: int
    pass_mark: int

    @property
    def passed(self) -> bool:
        return self.total >= self.pass_mark  # 60 分（含）以上为合格

    def as_dict(self) -> dict[str, object]:
        return {
            "points": self.points,
            "total": self.total,
            "maximum": self.maximum,
            "pass_mark": self.pass_mark,
            "passed": self.passed,
        }


def score_attempt(
    questions: Iterable[tuple[Question, int]],
    answers: Mapping[str, tuple[str, ...]],
    *,
    multiple_rule: str = "all_or_nothing",
    partial_points: int = 0,
    pass_mark: int = 60,
) -> Score:
    """Score every question; an unanswered question earns nothing."""
    points: dict[str, int] = {}
    maximum = 0
    for question, worth in questions:
        maximum += worth
        answer = answers.get(question.id, ())
        points[question.id] = question_type(question.type).score(question, answer, worth, multiple_rule, partial_points)
    return Score(points, sum(points.values()), maximum, pass_mark)
