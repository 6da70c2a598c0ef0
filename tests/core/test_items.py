"""Question types: answer normalisation and scoring, including the multiple-choice rules."""

from __future__ import annotations

import pytest

from cbt.core.errors import InvalidInput
from cbt.core.items import JUDGE_OPTIONS, Option, Question, question_type


def q(type_: str, key: tuple[str, ...], n_options: int = 4) -> Question:
    options = JUDGE_OPTIONS if type_ == "judge" else tuple(Option(c, c) for c in "ABCDE"[:n_options])
    return Question("Q", type_, "law", "题干", options, key, "解析", "出处")


@pytest.mark.parametrize(
    ("type_", "key", "answer", "rule", "expected"),
    [
        ("single", ("B",), ("B",), "all_or_nothing", 2),
        ("single", ("B",), ("A",), "all_or_nothing", 0),
        ("single", ("B",), (), "all_or_nothing", 0),
        ("judge", ("F",), ("F",), "all_or_nothing", 2),
        ("judge", ("F",), ("T",), "all_or_nothing", 0),
        ("multiple", ("A", "C"), ("A", "C"), "all_or_nothing", 2),
        ("multiple", ("A", "C"), ("A",), "all_or_nothing", 0),
        ("multiple", ("A", "C"), ("A", "B", "C"), "all_or_nothing", 0),
        ("multiple", ("A", "C", "D"), ("A", "C", "D"), "partial", 2),
        ("multiple", ("A", "C", "D"), ("A", "D"), "partial", 1),  # 漏选得分
        ("multiple", ("A", "C", "D"), ("A", "B"), "partial", 0),  # a wrong option scores nothing
        ("multiple", ("A", "C", "D"), (), "partial", 0),
    ],
)
def test_scoring(type_, key, answer, rule, expected):
    question = q(type_, key)
    assert question_type(type_).score(question, answer, 2, rule, 1) == expected


def test_normalise_sorts_and_accepts_empty():
    question = q("multiple", ("A", "C"))
    assert question_type("multiple").normalise(question, ["C", "A"]) == ("A", "C")
    assert question_type("multiple").normalise(question, []) == ()


@pytest.mark.parametrize(
    ("type_", "answer"),
    [
        ("single", ["A", "B"]),  # two options on a single choice
        ("single", ["Z"]),  # not an option of the question
        ("multiple", ["A", "A"]),
        ("multiple", "AC"),  # not a list
        ("judge", ["A"]),
        ("single", [1]),
    ],
)
def test_invalid_answers_are_refused(type_, answer):
    with pytest.raises(InvalidInput) as err:
        question_type(type_).normalise(q(type_, ("T",) if type_ == "judge" else ("A",)), answer)
    assert err.value.code == "invalid_answer"
