"""The checks of one pack item (and its questions) against the pack format (``question_packs/FORMAT.md``):
every problem reported with file, line and item, nothing raised. Used by :func:`cbt.core.packs.build_pack`
for each item of a pack's item files."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cbt.core.errors import ERROR, WARNING, Problem
from cbt.core.items import (
    DIFFICULTIES,
    ITEM_TYPES,
    JUDGE_OPTIONS,
    TYPE_NAMES,
    Item,
    Option,
    Question,
    question_type,
)

Sanitiser = Callable[[str], tuple[str, list[str]]]
"""Takes rich text, returns (clean html, list of things removed)."""

ITEM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
OPTION_ID = re.compile(r"^[A-H]$")
JUDGE_KEYS = {"对": "T", "T": "T", "错": "F", "F": "F"}
ITEM_FIELDS = {
    "id",
    "type",
    "levels",
    "area",
    "difficulty",
    "stem",
    "options",
    "key",
    "explanation",
    "source",
    "fixed",
    "retired",
    "questions",
}
QUESTION_FIELDS = {"id", "type", "area", "stem", "options", "key", "explanation", "source", "fixed"}


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)

    def add(
        self, severity: str, code: str, message: str, file: str | None, node: object = None, item: str | None = None
    ) -> None:
        line = getattr(node, "line", None)
        self.problems.append(Problem(severity, code, message, file, line, item))

    def error(self, code: str, message: str, file: str | None, node: object = None, item: str | None = None) -> None:
        self.add(ERROR, code, message, file, node, item)

    def warning(self, code: str, message: str, file: str | None, node: object = None, item: str | None = None) -> None:
        self.add(WARNING, code, message, file, node, item)


class ItemChecker:
    """Checks one raw item at a time against the pack's levels and areas."""

    def __init__(self, report: Report, levels: set[int], areas: set[str], sanitize: Sanitiser, media: set[str]):
        self.report, self.levels, self.areas, self.sanitize, self.media = report, levels, areas, sanitize, media

    def item(self, raw: object, path: str) -> Item | None:
        r = self.report
        if not isinstance(raw, Mapping):
            r.error("bad_item", "每道题必须是一个映射（键: 值）", path, raw)
            return None
        item_id = raw.get("id")
        if not isinstance(item_id, str) or not ITEM_ID.match(item_id):
            r.error("bad_item_id", f"题目编号 {item_id!r} 无效：只能使用字母、数字、-、_、.", path, raw)
            return None
        before = len(r.problems)
        for key in sorted(set(raw) - ITEM_FIELDS):
            r.warning("unknown_field", f"字段 {key!r} 无法识别，已忽略", path, raw, item_id)
        type_ = raw.get("type")
        if type_ not in ITEM_TYPES:
            r.error("unknown_type", f"题型 {type_!r} 无效，应为 {'、'.join(ITEM_TYPES)} 之一", path, raw, item_id)
            return None
        levels = raw.get("levels")
        if not isinstance(levels, list) or not levels or not all(lv in self.levels for lv in levels):
            r.error(
                "unknown_level",
                f"levels {levels!r} 必须是本题库的等级 {sorted(self.levels)} 中的一个或多个",
                path,
                raw,
                item_id,
            )
        area = raw.get("area")
        if area not in self.areas:
            r.error("unknown_area", f"知识领域 {area!r} 未在 pack.yaml 中定义", path, raw, item_id)
        difficulty = raw.get("difficulty")
        if difficulty not in DIFFICULTIES or isinstance(difficulty, bool):
            r.error("bad_difficulty", f"难度 {difficulty!r} 必须是 1 到 5 的整数", path, raw, item_id)
        source = self.text(raw, "source", path, item_id, rich=False)
        if type_ == "case":
            stem = self.text(raw, "stem", path, item_id)
            questions = self.case_questions(raw, path, item_id, str(area), source)
        else:
            stem = ""
            question = self.question(raw, path, item_id, item_id, str(type_), str(area), source)
            questions = [question] if question else []
        retired = raw.get("retired", False)
        if not isinstance(retired, bool):
            r.error("bad_retired", "retired 只能是 true 或 false", path, raw, item_id)
        if any(p.is_error for p in r.problems[before:]):
            return None
        return Item(
            id=item_id,
            type=str(type_),
            levels=tuple(sorted(set(levels), reverse=True)),  # type: ignore[arg-type]
            area=str(area),
            difficulty=int(difficulty),  # type: ignore[arg-type]
            source=source,
            questions=tuple(questions),
            stem=stem,
            retired=bool(retired),
        ).with_hash()

    def case_questions(self, raw: Mapping[str, Any], path: str, item_id: str, area: str, source: str) -> list[Question]:
        r = self.report
        subs = raw.get("questions")
        if not isinstance(subs, list) or not subs:
            r.error("case_without_questions", "案例分析题必须包含至少一道小题（questions）", path, raw, item_id)
            return []
        for key in ("options", "key"):
            if key in raw:
                r.error("case_has_options", f"案例本身不能有 {key}，请写在各小题中", path, raw, item_id)
        questions: list[Question] = []
        seen: set[str] = set()
        for sub in subs:
            if not isinstance(sub, Mapping):
                r.error("bad_item", "案例小题必须是一个映射", path, sub, item_id)
                continue
            sub_id = sub.get("id")
            if not isinstance(sub_id, str) or not re.match(r"^[A-Za-z0-9_-]{1,16}$", sub_id):
                r.error("bad_item_id", f"小题编号 {sub_id!r} 无效", path, sub, item_id)
                continue
            full_id = f"{item_id}.{sub_id}"
            if sub_id in seen:
                r.error("duplicate_item_id", f"小题编号 {sub_id} 在本案例中重复", path, sub, full_id)
                continue
            seen.add(sub_id)
            for key in sorted(set(sub) - QUESTION_FIELDS):
                r.warning("unknown_field", f"字段 {key!r} 无法识别，已忽略", path, sub, full_id)
            sub_type = sub.get("type", "single")
            if sub_type not in ("single", "multiple"):
                r.error(
                    "unknown_type", f"案例小题的题型只能是 single 或 multiple，不能是 {sub_type!r}", path, sub, full_id
                )
                continue
            sub_area = sub.get("area", area)
            if sub_area not in self.areas:
                r.error("unknown_area", f"知识领域 {sub_area!r} 未在 pack.yaml 中定义", path, sub, full_id)
                continue
            sub_source = self.text(sub, "source", path, full_id, rich=False) if "source" in sub else source
            question = self.question(sub, path, full_id, full_id, sub_type, str(sub_area), sub_source)
            if question:
                questions.append(question)
        return questions

    def question(
        self, raw: Mapping[str, Any], path: str, label: str, qid: str, type_: str, area: str, source: str
    ) -> Question | None:
        r = self.report
        before = len(r.problems)
        stem = self.text(raw, "stem", path, label)
        explanation = self.text(raw, "explanation", path, label, rich=False)
        options = self.options(raw, path, label, type_)
        key = self.key(raw, path, label, type_)
        fixed = raw.get("fixed", [])
        if not isinstance(fixed, list) or not all(f in [o.id for o in options] for f in fixed):
            r.error("bad_fixed", f"fixed 必须列出本题已有的选项编号，现为 {fixed!r}", path, raw, label)
            fixed = []
        if any(p.is_error for p in r.problems[before:]):
            return None
        question = Question(qid, type_, area, stem, tuple(options), tuple(key), explanation, source, tuple(fixed))
        for code, message in question_type(type_).key_problems(question):
            r.error(code, message, path, raw, label)
        return None if any(p.is_error for p in r.problems[before:]) else question

    def options(self, raw: Mapping[str, Any], path: str, label: str, type_: str) -> list[Option]:
        r = self.report
        if type_ == "judge" and "options" not in raw:
            return list(JUDGE_OPTIONS)
        given = raw.get("options")
        if not isinstance(given, Mapping) or not given:
            r.error("bad_options", "options 必须是“选项编号: 选项内容”的映射", path, raw, label)
            return []
        if type_ == "judge":
            texts = [str(t).strip() for t in given.values()]
            if sorted(texts) != sorted(o.text for o in JUDGE_OPTIONS):
                r.error("judge_options", f"判断题的选项只能是“对”和“错”，现为 {'、'.join(texts)}", path, raw, label)
                return []
            return list(JUDGE_OPTIONS)
        options = []
        for oid, text in given.items():
            if not isinstance(oid, str) or not OPTION_ID.match(oid):
                r.error("bad_option_id", f"选项编号 {oid!r} 无效，应为 A 到 H 的大写字母", path, raw, label)
                continue
            if not isinstance(text, (str, int, float)) or not str(text).strip():
                r.error("empty_option", f"选项 {oid} 没有内容", path, raw, label)
                continue
            options.append(Option(oid, self.clean(str(text), path, label, f"选项 {oid}")))
        qtype = question_type(type_)
        if not qtype.min_options <= len(given) <= qtype.max_options:
            r.error(
                "option_count",
                f"{TYPE_NAMES[type_]}应有 {qtype.min_options} 到 {qtype.max_options} 个选项，现有 {len(given)} 个",
                path,
                raw,
                label,
            )
        return options

    def key(self, raw: Mapping[str, Any], path: str, label: str, type_: str) -> list[str]:
        key = raw.get("key")
        if type_ == "judge":
            if isinstance(key, str) and key.strip() in JUDGE_KEYS:
                return [JUDGE_KEYS[key.strip()]]
            self.report.error("bad_key", f"判断题的答案只能是“对”或“错”，现为 {key!r}", path, raw, label)
            return []
        if isinstance(key, str):
            return [key.strip()]
        if isinstance(key, list) and key and all(isinstance(k, str) for k in key):
            return [k.strip() for k in key]
        self.report.error("bad_key", f"缺少答案 key，或格式不正确：{key!r}", path, raw, label)
        return []

    def text(self, raw: Mapping[str, Any], name: str, path: str, label: str, *, rich: bool = True) -> str:
        value = raw.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.report.error(f"missing_{name}", f"缺少 {name}（{_FIELD_NAMES[name]}）", path, raw, label)
            return ""
        return self.clean(value.strip(), path, label, _FIELD_NAMES[name]) if rich else value.strip()

    def clean(self, text: str, path: str, label: str, what: str) -> str:
        clean, removed = self.sanitize(text)
        for thing in removed:
            self.report.warning("unsafe_markup", f"{what}中的不安全内容已被清除：{thing}", path, None, label)
        for src in re.findall(r'<img[^>]*\bsrc="([^"]*)"', clean):
            if src not in self.media:
                self.report.error("missing_media", f"{what}引用的图片 {src} 不在题库的 media 目录中", path, None, label)
        return clean


_FIELD_NAMES = {"stem": "题干", "explanation": "解析", "source": "出处", "options": "选项"}
