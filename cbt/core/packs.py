"""Question packs: build a :class:`Pack` from parsed pack documents, reporting every problem.

Reading files and YAML happens outside the core (``cbt.adapters.packfiles``); this module receives plain
Python data (mappings may carry a ``line`` attribute for messages) and a sanitiser for rich text,
checks everything the format requires (``question_packs/FORMAT.md``) and returns the pack together
with the full list of problems. A pack with any error must not be imported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from cbt.core.assembly import assemble
from cbt.core.blueprint import PART_NAMES, Blueprint, Section, blueprint_problems, shortages
from cbt.core.errors import ERROR, WARNING, AssemblyError, Problem
from cbt.core.items import (
    DIFFICULTIES,
    ITEM_TYPES,
    JUDGE_OPTIONS,
    LEVELS,
    TYPE_NAMES,
    Item,
    Option,
    Question,
    question_type,
)

Sanitiser = Callable[[str], tuple[str, list[str]]]
"""Takes rich text, returns (clean html, list of things removed)."""

PACK_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
ITEM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
OPTION_ID = re.compile(r"^[A-H]$")
OCCUPATION_CODE = re.compile(r"^\d-\d{2}-\d{2}-\d{2}$")
JUDGE_KEYS = {"对": "T", "T": "T", "错": "F", "F": "F"}

PACK_FIELDS = {"pack", "version", "occupation", "levels", "areas", "blueprints", "name", "description"}
BLUEPRINT_FIELDS = {
    "level",
    "part",
    "certification",
    "duration_minutes",
    "pass_mark",
    "multiple_rule",
    "partial_points",
    "sections",
    "weights",
}
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


@dataclass(frozen=True)
class Area:
    code: str
    name: str


@dataclass(frozen=True)
class Pack:
    code: str
    version: str
    occupation_code: str
    occupation_name: str
    levels: tuple[int, ...]
    areas: tuple[Area, ...]
    blueprints: tuple[Blueprint, ...]
    items: tuple[Item, ...]

    def blueprint(self, level: int, part: str) -> Blueprint | None:
        return next((b for b in self.blueprints if b.level == level and b.part == part), None)

    def area_name(self, code: str) -> str:
        return next((a.name for a in self.areas if a.code == code), code)

    def meta(self) -> dict[str, object]:
        return {
            "levels": list(self.levels),
            "areas": [{"code": a.code, "name": a.name} for a in self.areas],
        }


@dataclass(frozen=True)
class PackDocument:
    """One parsed file of a pack: its path inside the pack and its data."""

    path: str
    data: object


@dataclass
class _Report:
    problems: list[Problem] = field(default_factory=list)

    def add(self, severity: str, code: str, message: str, file: str | None, node: object = None, item=None) -> None:
        line = getattr(node, "line", None)
        self.problems.append(Problem(severity, code, message, file, line, item))

    def error(self, code: str, message: str, file: str | None, node: object = None, item=None) -> None:
        self.add(ERROR, code, message, file, node, item)

    def warning(self, code: str, message: str, file: str | None, node: object = None, item=None) -> None:
        self.add(WARNING, code, message, file, node, item)


def build_pack(
    meta_doc: PackDocument,
    item_docs: Iterable[PackDocument],
    *,
    sanitize: Sanitiser,
    media: Iterable[str] = (),
) -> tuple[Pack | None, list[Problem]]:
    """Check a pack's documents and build it. Returns (pack or None if any error, every problem)."""
    report = _Report()
    meta = _read_meta(meta_doc, report)
    if meta is None:
        return None, report.problems
    code, version, occ_code, occ_name, levels, areas, bp_docs = meta
    area_codes = {a.code for a in areas}
    ctx = _ItemContext(report, set(levels), area_codes, sanitize, set(media))
    items: list[Item] = []
    seen: dict[str, str] = {}
    for doc in item_docs:
        for raw in _item_list(doc, report):
            item = ctx.item(raw, doc.path)
            if item is None:
                continue
            if item.id in seen:
                report.error(
                    "duplicate_item_id",
                    f"题目编号 {item.id} 重复（首次出现在 {seen[item.id]}）",
                    doc.path,
                    raw,
                    item.id,
                )
                continue
            seen[item.id] = f"{doc.path}:{getattr(raw, 'line', '?')}"
            items.append(item)
    blueprints = _read_blueprints(bp_docs, meta_doc.path, report, levels, area_codes)
    for bp in blueprints:
        _check_satisfiable(bp, items, meta_doc.path, report)
    if any(p.is_error for p in report.problems):
        return None, report.problems
    pack = Pack(code, version, occ_code, occ_name, tuple(levels), tuple(areas), tuple(blueprints), tuple(items))
    return pack, report.problems


def _read_meta(doc: PackDocument, report: _Report):
    data, path = doc.data, doc.path
    if not isinstance(data, Mapping):
        report.error("pack_not_mapping", "pack.yaml 必须是一个映射（键: 值）", path)
        return None
    for key in sorted(set(data) - PACK_FIELDS):
        if not str(key).startswith("x-"):
            report.warning("unknown_field", f"pack.yaml 中的字段 {key!r} 无法识别，已忽略", path, data)
    code = data.get("pack")
    if not isinstance(code, str) or not PACK_CODE.match(code):
        report.error("bad_pack_code", "pack 必须是由字母、数字、-、_ 组成的题库代码", path, data)
    version = data.get("version")
    if not isinstance(version, (str, int, float)) or not str(version).strip():
        report.error("bad_version", "version 必须是题库版本号（请加引号）", path, data)
    occupation = data.get("occupation")
    occ_code = occ_name = ""
    if not isinstance(occupation, Mapping):
        report.error("bad_occupation", "occupation 必须包含 code 和 name", path, data)
    else:
        occ_code, occ_name = str(occupation.get("code", "")), str(occupation.get("name", ""))
        if not OCCUPATION_CODE.match(occ_code):
            report.error("bad_occupation", f"职业编码 {occ_code!r} 格式应为 3-01-04-03", path, occupation)
        if not occ_name.strip():
            report.error("bad_occupation", "缺少职业名称 occupation.name", path, occupation)
    levels = data.get("levels")
    if not isinstance(levels, list) or not levels or not all(lv in LEVELS for lv in levels):
        report.error("unknown_level", "levels 必须是 1 到 5 之间的等级列表", path, data)
        levels = []
    areas: list[Area] = []
    raw_areas = data.get("areas")
    if not isinstance(raw_areas, list) or not raw_areas:
        report.error("bad_areas", "areas 必须列出知识领域（code 和 name）", path, data)
    else:
        for raw in raw_areas:
            if not isinstance(raw, Mapping) or not raw.get("code") or not raw.get("name"):
                report.error("bad_areas", "每个知识领域都要有 code 和 name", path, raw)
                continue
            if any(a.code == raw["code"] for a in areas):
                report.error("duplicate_area", f"知识领域 {raw['code']} 重复", path, raw)
                continue
            areas.append(Area(str(raw["code"]), str(raw["name"])))
    bp_docs = data.get("blueprints")
    if not isinstance(bp_docs, list) or not bp_docs:
        report.error("no_blueprints", "blueprints 必须至少包含一个蓝图", path, data)
        bp_docs = []
    if any(p.is_error for p in report.problems):
        return None
    return code, str(version), occ_code, occ_name, levels, areas, bp_docs


def _read_blueprints(docs: list, path: str, report: _Report, levels, areas) -> list[Blueprint]:
    blueprints: list[Blueprint] = []
    for raw in docs:
        if not isinstance(raw, Mapping):
            report.error("bad_blueprint", "蓝图必须是一个映射", path, raw)
            continue
        where = f"蓝图 {raw.get('level')}级{PART_NAMES.get(str(raw.get('part')), raw.get('part'))}"
        for key in sorted(set(raw) - BLUEPRINT_FIELDS):
            report.warning("unknown_field", f"{where}中的字段 {key!r} 无法识别，已忽略", path, raw)
        try:
            bp = _blueprint_from(raw)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            report.error("bad_blueprint", f"{where}格式不正确：{exc}", path, raw)
            continue
        for code, message in blueprint_problems(bp, areas, levels):
            report.error(code, f"{where}：{message}", path, raw)
        if any(b.key == bp.key for b in blueprints):
            report.error("duplicate_blueprint", f"{where}重复", path, raw)
        blueprints.append(bp)
    return blueprints


def _blueprint_from(raw: Mapping) -> Blueprint:
    def integer(value: object, name: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} 必须是整数")
        return value

    sections = []
    for s in raw["sections"]:
        quota = s.get("quota") or {}
        sections.append(
            Section(
                str(s["type"]),
                integer(s["count"], "count"),
                integer(s["points"], "points"),
                tuple((str(a), integer(n, "quota")) for a, n in quota.items()),
            )
        )
    return Blueprint(
        level=integer(raw["level"], "level"),
        part=str(raw["part"]),
        sections=tuple(sections),
        weights=tuple((str(a), integer(w, "weights")) for a, w in raw["weights"].items()),
        duration_minutes=integer(raw.get("duration_minutes", 90), "duration_minutes"),
        pass_mark=integer(raw.get("pass_mark", 60), "pass_mark"),
        certification=bool(raw.get("certification", True)),
        multiple_rule=str(raw.get("multiple_rule", "all_or_nothing")),
        partial_points=integer(raw.get("partial_points", 0), "partial_points"),
    )


def _check_satisfiable(bp: Blueprint, items: list[Item], path: str, report: _Report) -> None:
    try:
        short = shortages(bp, items)
    except ValueError:
        return  # the blueprint itself is broken; already reported
    for type_, area, need, have in short:
        report.error(
            "bank_short",
            f"蓝图 {bp.label}：{TYPE_NAMES[type_]}在知识领域 {area} 需要 {need} 题，"
            f"题库只有 {have} 题，还差 {need - have} 题",
            path,
        )
    if not short:
        try:
            assemble(bp, items, seed=0)
        except AssemblyError as exc:
            report.error(exc.code, exc.message, path)


def _item_list(doc: PackDocument, report: _Report) -> list:
    data = doc.data
    if isinstance(data, Mapping) and isinstance(data.get("items"), list):
        return data["items"]
    if data is None:
        report.warning("empty_file", "文件为空", doc.path)
        return []
    report.error("bad_items_file", "题目文件必须是包含 items: 列表的映射", doc.path, data)
    return []


class _ItemContext:
    """Checks one raw item at a time against the pack's levels and areas."""

    def __init__(self, report: _Report, levels: set[int], areas: set[str], sanitize: Sanitiser, media: set[str]):
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

    def case_questions(self, raw: Mapping, path: str, item_id: str, area: str, source: str) -> list[Question]:
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
        self, raw: Mapping, path: str, label: str, qid: str, type_: str, area: str, source: str
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

    def options(self, raw: Mapping, path: str, label: str, type_: str) -> list[Option]:
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

    def key(self, raw: Mapping, path: str, label: str, type_: str) -> list[str]:
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

    def text(self, raw: Mapping, name: str, path: str, label: str, *, rich: bool = True) -> str:
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
