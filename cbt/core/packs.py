"""Question packs: build a :class:`Pack` from parsed pack documents, reporting every problem.

Reading files and YAML happens outside the core (``cbt.adapters.packfiles``); this module receives plain
Python data (mappings may carry a ``line`` attribute for messages) and a sanitiser for rich text,
checks everything the format requires (``question_packs/FORMAT.md``) and returns the pack together
with the full list of problems. A pack with any error must not be imported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cbt.core.assembly import assemble
from cbt.core.blueprint import PART_NAMES, Blueprint, Section, blueprint_problems, shortages
from cbt.core.errors import AssemblyError, Problem
from cbt.core.items import (
    LEVELS,
    TYPE_NAMES,
    Item,
)
from cbt.core.pack_items import ItemChecker, Report, Sanitiser

PACK_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
OCCUPATION_CODE = re.compile(r"^\d-\d{2}-\d{2}-\d{2}$")

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


def build_pack(
    meta_doc: PackDocument,
    item_docs: Iterable[PackDocument],
    *,
    sanitize: Sanitiser,
    media: Iterable[str] = (),
) -> tuple[Pack | None, list[Problem]]:
    """Check a pack's documents and build it. Returns (pack or None if any error, every problem)."""
    report = Report()
    meta = _read_meta(meta_doc, report)
    if meta is None:
        return None, report.problems
    code, version, occ_code, occ_name, levels, areas, bp_docs = meta
    area_codes = {a.code for a in areas}
    ctx = ItemChecker(report, set(levels), area_codes, sanitize, set(media))
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


Meta = tuple[str, str, str, str, list[int], list["Area"], list[Any]]


def _read_meta(doc: PackDocument, report: Report) -> Meta | None:
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
    return str(code), str(version), occ_code, occ_name, levels, areas, bp_docs


def _read_blueprints(
    docs: list[Any], path: str, report: Report, levels: Iterable[int], areas: set[str]
) -> list[Blueprint]:
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


def _blueprint_from(raw: Mapping[str, Any]) -> Blueprint:
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


def _check_satisfiable(bp: Blueprint, items: list[Item], path: str, report: Report) -> None:
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


def _item_list(doc: PackDocument, report: Report) -> list[Any]:
    data = doc.data
    if isinstance(data, Mapping) and isinstance(data.get("items"), list):
        items: list[Any] = data["items"]
        return items
    if data is None:
        report.warning("empty_file", "文件为空", doc.path)
        return []
    report.error("bad_items_file", "题目文件必须是包含 items: 列表的映射", doc.path, data)
    return []
