"""Blueprints: what a paper for one level and part must contain.

A blueprint lists sections (question type, number of scored questions, points each) and the
standard's area weights. :func:`quotas` turns it into the exact number of questions per
(type, area) cell that every assembled form must hold, so that each area earns exactly its weight
in points. :func:`blueprint_problems` says everything wrong with a blueprint and :func:`shortages`
what a bank lacks to satisfy it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cbt.core.items import ITEM_TYPES, LEVELS, MULTIPLE_RULES, TYPE_NAMES, Item
from cbt.core.text import N_

PARTS = ("theory", "skill")
PART_NAMES = {"theory": N_("理论知识"), "skill": N_("技能考核")}
TOTAL_POINTS = 100
MIN_CERTIFICATION_MINUTES = 90  # 国家职业技能标准 1.9.4: 不少于 90min
CERTIFICATION_PASS_MARK = 60  # 60 分（含）以上为合格


@dataclass(frozen=True)
class Section:
    type: str
    count: int
    points: int
    quota: tuple[tuple[str, int], ...] = ()  # explicit questions per area, if given

    @property
    def total(self) -> int:
        return self.count * self.points


@dataclass(frozen=True)
class Blueprint:
    level: int
    part: str
    sections: tuple[Section, ...]
    weights: tuple[tuple[str, int], ...]
    duration_minutes: int = MIN_CERTIFICATION_MINUTES
    pass_mark: int = CERTIFICATION_PASS_MARK
    certification: bool = True
    multiple_rule: str = "all_or_nothing"
    partial_points: int = 0

    @property
    def key(self) -> tuple[int, str]:
        return (self.level, self.part)

    @property
    def label(self) -> str:
        return f"{self.level}级{PART_NAMES.get(self.part, self.part)}"

    @property
    def weight_map(self) -> dict[str, int]:
        return dict(self.weights)

    def section(self, type_: str) -> Section:
        return next(s for s in self.sections if s.type == type_)

    def to_dict(self) -> dict[str, object]:
        return {
            "level": self.level,
            "part": self.part,
            "certification": self.certification,
            "duration_minutes": self.duration_minutes,
            "pass_mark": self.pass_mark,
            "multiple_rule": self.multiple_rule,
            "partial_points": self.partial_points,
            "sections": [
                {"type": s.type, "count": s.count, "points": s.points, **({"quota": dict(s.quota)} if s.quota else {})}
                for s in self.sections
            ],
            "weights": dict(self.weights),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Blueprint:
        return cls(
            level=data["level"],
            part=data["part"],
            sections=tuple(
                Section(s["type"], s["count"], s["points"], tuple(s.get("quota", {}).items())) for s in data["sections"]
            ),
            weights=tuple(data["weights"].items()),
            duration_minutes=data.get("duration_minutes", MIN_CERTIFICATION_MINUTES),
            pass_mark=data.get("pass_mark", CERTIFICATION_PASS_MARK),
            certification=data.get("certification", True),
            multiple_rule=data.get("multiple_rule", "all_or_nothing"),
            partial_points=data.get("partial_points", 0),
        )


def section_quota(section: Section, weights: Mapping[str, int]) -> dict[str, int] | None:
    """Questions per area for one section; None if the proportional split is not whole."""
    if section.quota:
        return {area: n for area, n in section.quota if n}
    quota = {}
    for area, weight in weights.items():
        share = section.total * weight  # points for this area from this section, times 100
        if share % (TOTAL_POINTS * section.points):
            return None
        if share:
            quota[area] = share // (TOTAL_POINTS * section.points)
    return quota


def quotas(blueprint: Blueprint) -> dict[tuple[str, str], int]:
    """The exact number of scored questions every form holds per (type, area).

    Raises ValueError if the blueprint does not resolve (call :func:`blueprint_problems` first).
    """
    result: dict[tuple[str, str], int] = {}
    for section in blueprint.sections:
        quota = section_quota(section, blueprint.weight_map)
        if quota is None:
            raise ValueError(f"section {section.type} does not split into whole questions per area")
        for area, n in quota.items():
            result[(section.type, area)] = n
    return result


def blueprint_problems(bp: Blueprint, areas: Iterable[str], levels: Iterable[int] = LEVELS) -> list[tuple[str, str]]:
    """(code, Chinese message) for everything wrong with a blueprint, all at once."""
    areas, levels = set(areas), set(levels)
    out: list[tuple[str, str]] = []
    if bp.level not in LEVELS or bp.level not in levels:
        out.append(("unknown_level", f"等级 {bp.level} 不是本题库适用的等级"))
    if bp.part not in PARTS:
        out.append(("unknown_part", f"考试部分 {bp.part!r} 无效，应为 theory 或 skill"))
    if bp.multiple_rule not in MULTIPLE_RULES:
        out.append(("unknown_multiple_rule", f"多选题计分规则 {bp.multiple_rule!r} 无效"))
    if bp.duration_minutes <= 0:
        out.append(("bad_duration", "考试时长必须大于 0 分钟"))
    elif bp.certification and bp.duration_minutes < MIN_CERTIFICATION_MINUTES:
        out.append(
            (
                "duration_too_short",
                f"认定考试时长不得少于 {MIN_CERTIFICATION_MINUTES} 分钟，当前为 {bp.duration_minutes} 分钟",
            )
        )
    if bp.certification and bp.pass_mark != CERTIFICATION_PASS_MARK:
        out.append(("bad_pass_mark", f"认定考试合格线为 {CERTIFICATION_PASS_MARK} 分，当前为 {bp.pass_mark} 分"))
    elif not 0 < bp.pass_mark <= TOTAL_POINTS:
        out.append(("bad_pass_mark", f"合格线 {bp.pass_mark} 无效"))
    if not bp.sections:
        out.append(("no_sections", "蓝图没有题型"))
    seen_types = set()
    for s in bp.sections:
        if s.type not in ITEM_TYPES:
            out.append(("unknown_type", f"题型 {s.type!r} 无效"))
        if s.type in seen_types:
            out.append(("duplicate_section", f"题型 {s.type} 出现了两次"))
        seen_types.add(s.type)
        if s.count <= 0 or s.points <= 0:
            out.append(("bad_section", f"{TYPE_NAMES.get(s.type, s.type)}的题数和分值必须为正整数"))
    partial = bp.multiple_rule == "partial" and "multiple" in seen_types
    if partial and not 0 < bp.partial_points < bp.section("multiple").points:
        out.append(("bad_partial_points", "漏选得分必须大于 0 且小于多选题的分值"))
    total = sum(s.total for s in bp.sections)
    if total != TOTAL_POINTS:
        out.append(("points_not_100", f"各题型分值合计为 {total} 分，应为 {TOTAL_POINTS} 分"))
    weights = bp.weight_map
    unknown = sorted(set(weights) - areas)
    if unknown:
        out.append(("unknown_area", f"权重表中的知识领域 {'、'.join(unknown)} 未在题库中定义"))
    if any(w < 0 for w in weights.values()):
        out.append(("negative_weight", "权重不能为负数"))
    weight_sum = sum(weights.values())
    if weight_sum != TOTAL_POINTS:
        out.append(("weights_not_100", f"知识领域权重合计为 {weight_sum}%，应为 100%"))
    if out:
        return out
    earned = {area: 0 for area in weights}
    for s in bp.sections:
        quota = section_quota(s, weights)
        if quota is None:
            out.append(
                (
                    "quota_not_whole",
                    f"{TYPE_NAMES[s.type]}按权重分配到各知识领域的题数不是整数，请在该题型下写明 quota",
                )
            )
            continue
        if set(quota) - set(weights):
            out.append(("unknown_area", f"{TYPE_NAMES[s.type]}的 quota 含有权重表之外的知识领域"))
        if sum(quota.values()) != s.count:
            out.append(
                ("quota_count", f"{TYPE_NAMES[s.type]}的 quota 合计 {sum(quota.values())} 题，应为 {s.count} 题")
            )
        for area, n in quota.items():
            earned[area] = earned.get(area, 0) + n * s.points
    if not out:
        for area, weight in weights.items():
            if earned.get(area, 0) != weight:
                out.append(
                    ("quota_weight", f"知识领域 {area} 按 quota 得 {earned.get(area, 0)} 分，权重要求 {weight} 分")
                )
    return out


def shortages(bp: Blueprint, items: Iterable[Item]) -> list[tuple[str, str, int, int]]:
    """(type, area, needed, available) for each cell the bank cannot fill for this blueprint.

    Counts scored questions: a case's sub-questions count towards their own areas.
    """
    have: dict[tuple[str, str], int] = {}
    for item in items:
        if not item.serves(bp.level):
            continue
        for area, n in item.areas().items():
            have[(item.type, area)] = have.get((item.type, area), 0) + n
    return [
        (type_, area, need, have.get((type_, area), 0))
        for (type_, area), need in quotas(bp).items()
        if have.get((type_, area), 0) < need
    ]
