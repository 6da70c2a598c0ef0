"""Blueprint arithmetic: quotas per (type, area) from the standard's weights."""

from __future__ import annotations

from cbt.core.blueprint import Blueprint, Section, blueprint_problems, quotas

AREAS = {"ethics", "basics", "platform", "employment", "social_insurance", "retirement", "labour_relations"}
L4_THEORY = {
    "ethics": 10,
    "basics": 25,
    "platform": 15,
    "employment": 15,
    "social_insurance": 15,
    "retirement": 10,
    "labour_relations": 10,
}


def bp(sections, weights=None, **kw) -> Blueprint:
    return Blueprint(4, "theory", tuple(sections), tuple((weights or L4_THEORY).items()), **kw)


def test_proportional_quotas_give_each_area_its_weight():
    blueprint = bp([Section("single", 40, 2), Section("judge", 20, 1)])
    assert blueprint_problems(blueprint, AREAS) == []
    cells = quotas(blueprint)
    assert cells[("single", "basics")] == 10 and cells[("judge", "basics")] == 5
    assert sum(n for (t, _), n in cells.items() if t == "single") == 40
    points = {a: 0 for a in AREAS}
    for (type_, area), n in cells.items():
        points[area] += n * blueprint.section(type_).points
    assert points == L4_THEORY


def test_problems_are_all_reported():
    blueprint = bp(
        [Section("single", 40, 2), Section("judge", 10, 1)],
        {**L4_THEORY, "ethics": 5},
        duration_minutes=80,
    )
    codes = {c for c, _ in blueprint_problems(blueprint, AREAS)}
    assert {"points_not_100", "weights_not_100", "duration_too_short"} <= codes


def test_partial_rule_needs_partial_points_below_full():
    blueprint = bp(
        [Section("single", 40, 1), Section("multiple", 20, 2), Section("judge", 20, 1)],
        {**L4_THEORY, "platform": 10, "employment": 20},
        multiple_rule="partial",
        partial_points=2,
    )
    assert [c for c, _ in blueprint_problems(blueprint, AREAS)] == ["bad_partial_points"]


def test_round_trip():
    blueprint = bp([Section("single", 40, 2, (("ethics", 4),)), Section("judge", 20, 1)])
    assert Blueprint.from_dict(blueprint.to_dict()) == blueprint
