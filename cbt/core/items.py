"""Items and the registry of question types.

An :class:`Item` is what the bank holds and a paper draws: a standalone question (``single``,
``multiple``, ``judge``) or a ``case`` (a scenario with its own sub-questions). Every item exposes
its scored :class:`Question` objects uniformly: a standalone item has exactly one, whose id is the
item's id; a case has one per sub-question (``CASE-ID.Q1``). Each question type knows how to check
its key, normalise a candidate's answer and score it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from cbt.core.errors import InvalidInput
from cbt.core.text import N_

ITEM_TYPES = ("single", "multiple", "judge", "case")
QUESTION_TYPES = ("single", "multiple", "judge")
LEVELS = (1, 2, 3, 4, 5)
DIFFICULTIES = (1, 2, 3, 4, 5)
MULTIPLE_RULES = ("all_or_nothing", "partial")

TYPE_NAMES = {"single": N_("单项选择题"), "multiple": N_("多项选择题"), "judge": N_("判断题"), "case": N_("案例分析题")}
LEVEL_NAMES = {
    5: N_("五级/初级工"),
    4: N_("四级/中级工"),
    3: N_("三级/高级工"),
    2: N_("二级/技师"),
    1: N_("一级/高级技师"),
}


@dataclass(frozen=True)
class Option:
    id: str
    text: str


JUDGE_OPTIONS = (Option("T", "对"), Option("F", "错"))


@dataclass(frozen=True)
class Question:
    """One scored question: a standalone item's question or a case's sub-question."""

    id: str
    type: str
    area: str
    stem: str
    options: tuple[Option, ...]
    key: tuple[str, ...]
    explanation: str
    source: str
    fixed: tuple[str, ...] = ()

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.options)

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "type": self.type,
            "area": self.area,
            "stem": self.stem,
            "options": [{"id": o.id, "text": o.text} for o in self.options],
            "key": list(self.key),
            "explanation": self.explanation,
            "source": self.source,
            "fixed": list(self.fixed),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Question:
        return cls(
            id=data["id"],
            type=data["type"],
            area=data["area"],
            stem=data["stem"],
            options=tuple(Option(o["id"], o["text"]) for o in data["options"]),
            key=tuple(data["key"]),
            explanation=data["explanation"],
            source=data["source"],
            fixed=tuple(data.get("fixed", ())),
        )


@dataclass(frozen=True)
class Item:
    """A unit of the bank. ``stem`` is the case scenario (empty for standalone items)."""

    id: str
    type: str
    levels: tuple[int, ...]
    area: str
    difficulty: int
    source: str
    questions: tuple[Question, ...]
    stem: str = ""
    retired: bool = False
    content_hash: str = field(default="", compare=False)

    @property
    def is_case(self) -> bool:
        return self.type == "case"

    def serves(self, level: int) -> bool:
        return level in self.levels and not self.retired

    def areas(self) -> dict[str, int]:
        """Number of scored questions per area (a case may span several areas)."""
        counts: dict[str, int] = {}
        for q in self.questions:
            counts[q.area] = counts.get(q.area, 0) + 1
        return counts

    def content(self) -> dict[str, object]:
        """The versioned content: everything but the retired flag."""
        return {
            "id": self.id,
            "type": self.type,
            "levels": list(self.levels),
            "area": self.area,
            "difficulty": self.difficulty,
            "source": self.source,
            "stem": self.stem,
            "questions": [q.to_dict() for q in self.questions],
        }

    @classmethod
    def from_content(cls, data: dict[str, Any], *, retired: bool = False) -> Item:
        item = cls(
            id=data["id"],
            type=data["type"],
            levels=tuple(data["levels"]),
            area=data["area"],
            difficulty=data["difficulty"],
            source=data["source"],
            stem=data.get("stem", ""),
            questions=tuple(Question.from_dict(q) for q in data["questions"]),
            retired=retired,
        )
        return item.with_hash()

    def with_hash(self) -> Item:
        return replace(self, content_hash=content_hash(self.content()))


def content_hash(content: dict[str, object]) -> str:
    """SHA-256 over the canonical JSON of an item's content: the identity of an item version."""
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- question types -----------------------------------------------------------------------


class QuestionType:
    """How one question type checks its key, normalises an answer and scores it."""

    name = ""
    min_options = 2
    max_options = 6

    def key_problems(self, question: Question) -> list[tuple[str, str]]:
        """(code, Chinese message) for each thing wrong with the key."""
        problems = []
        unknown = [k for k in question.key if k not in question.option_ids]
        if unknown:
            problems.append(("key_not_an_option", f"答案 {'、'.join(unknown)} 不是本题的选项"))
        if len(set(question.key)) != len(question.key):
            problems.append(("key_repeated", "答案中有重复的选项"))
        return problems

    def normalise(self, question: Question, answer: object) -> tuple[str, ...]:
        """Turn a submitted answer into a sorted tuple of option ids, or raise InvalidInput.

        An empty answer (nothing chosen) is valid: the candidate cleared the question.
        """
        if not isinstance(answer, (list, tuple)) or not all(isinstance(a, str) for a in answer):
            raise InvalidInput("答案格式不正确", code="invalid_answer")
        chosen = tuple(sorted(set(answer)))
        if len(chosen) != len(answer):
            raise InvalidInput("答案中有重复的选项", code="invalid_answer")
        unknown = [a for a in chosen if a not in question.option_ids]
        if unknown:
            raise InvalidInput(f"选项 {'、'.join(unknown)} 不属于本题", code="invalid_answer")
        return chosen

    def score(self, question: Question, answer: tuple[str, ...], points: int, rule: str, partial: int) -> int:
        return points if answer and set(answer) == set(question.key) else 0


class SingleChoice(QuestionType):
    name = "single"

    def key_problems(self, question: Question) -> list[tuple[str, str]]:
        problems = super().key_problems(question)
        if len(question.key) != 1:
            problems.append(("single_key_count", f"单项选择题必须恰好有一个答案，现有 {len(question.key)} 个"))
        return problems

    def normalise(self, question: Question, answer: object) -> tuple[str, ...]:
        chosen = super().normalise(question, answer)
        if len(chosen) > 1:
            raise InvalidInput("单项选择题只能选择一个选项", code="invalid_answer")
        return chosen


class MultipleChoice(QuestionType):
    name = "multiple"
    min_options = 3

    def key_problems(self, question: Question) -> list[tuple[str, str]]:
        problems = super().key_problems(question)
        if len(question.key) < 2:
            problems.append(("multiple_key_count", f"多项选择题至少要有两个答案，现有 {len(question.key)} 个"))
        return problems

    def score(self, question: Question, answer: tuple[str, ...], points: int, rule: str, partial: int) -> int:
        chosen, key = set(answer), set(question.key)
        if chosen == key:
            return points
        if rule == "partial" and chosen and chosen < key:
            return partial
        return 0


class Judge(SingleChoice):
    name = "judge"
    min_options = 2
    max_options = 2

    def key_problems(self, question: Question) -> list[tuple[str, str]]:
        problems = []
        if tuple((o.id, o.text) for o in question.options) != tuple((o.id, o.text) for o in JUDGE_OPTIONS):
            problems.append(("judge_options", "判断题的选项只能是“对”和“错”"))
        return problems + super().key_problems(question)


QUESTION_TYPE_REGISTRY: dict[str, QuestionType] = {t.name: t for t in (SingleChoice(), MultipleChoice(), Judge())}


def question_type(name: str) -> QuestionType:
    return QUESTION_TYPE_REGISTRY[name]
