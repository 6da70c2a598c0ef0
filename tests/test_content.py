"""The bundled 劳动保障协理员 pack: valid, sourced, and large enough for parallel forms at every level and part."""

from __future__ import annotations

import re

from cbt.adapters.packfiles import load_pack
from cbt.core.assembly import assemble_parallel
from tests.conftest import LSA

DOCUMENT = re.compile(r"《[^》]+》")
PLACE = re.compile(r"第[一二三四五六七八九十百零〇0-9]+条|\d+(\.\d+)+|〔\d{4}〕|[一二三四五六七八九十]+、|\d{4}年")


def test_pack_validates_without_errors_or_warnings():
    pack, problems = load_pack(LSA)
    assert pack is not None
    assert problems == [], "\n".join(map(str, problems))


def test_matches_the_standard(lsa_pack):
    assert (lsa_pack.occupation_code, lsa_pack.occupation_name) == ("3-01-04-03", "劳动保障协理员")
    assert sorted(lsa_pack.levels) == [3, 4, 5]
    theory = {5: (10, 25, 15, 15, 15, 10, 10), 4: (10, 25, 15, 15, 15, 10, 10), 3: (10, 25, 10, 20, 15, 10, 10)}
    skill = {5: (25, 30, 20, 15, 10), 4: (25, 30, 20, 15, 10), 3: (20, 35, 20, 15, 10)}
    for level in (5, 4, 3):
        t, s = lsa_pack.blueprint(level, "theory"), lsa_pack.blueprint(level, "skill")
        assert tuple(w for _, w in t.weights) == theory[level]
        assert tuple(w for _, w in s.weights) == skill[level]
        assert {x.type for x in t.sections} == ({"single", "multiple", "judge"} if level == 3 else {"single", "judge"})
        assert [x.type for x in s.sections] == ["case"]
        for bp in (t, s):
            assert bp.certification and bp.duration_minutes >= 90 and bp.pass_mark == 60


def test_every_item_cites_a_source_and_explains_its_key(lsa_pack):
    for item in lsa_pack.items:
        for q in item.questions:
            assert DOCUMENT.search(q.source) and PLACE.search(q.source), f"{q.id}: source {q.source!r}"
            assert len(q.explanation) >= 10, q.id


def test_case_sub_questions_are_single_choice(lsa_pack):
    for item in lsa_pack.items:
        if item.is_case:
            assert 2 <= len(item.questions) <= 5
            assert all(q.type == "single" for q in item.questions)


def test_two_parallel_forms_for_every_level_and_part(lsa_pack):
    for bp in lsa_pack.blueprints:
        for seed in ("2026", "A1", 99):
            parallel = assemble_parallel(bp, lsa_pack.items, seed, 2, max_overlap=0.5, max_spread=0.25)
            assert parallel.max_overlap() <= 0.5, (bp.label, parallel.report())


def test_skill_forms_assemble_for_any_seed(lsa_pack):
    """Cases are drawn whole; the exact-cover search must succeed whatever order a seed gives."""
    for bp in lsa_pack.blueprints:
        if bp.part == "skill":
            for seed in range(60):
                parallel = assemble_parallel(bp, lsa_pack.items, f"DEMO-{seed}", 2)
                assert parallel.max_overlap() <= 0.5


def test_no_stem_or_option_repeats(lsa_pack):
    stems = [q.stem for i in lsa_pack.items for q in i.questions]
    assert len(stems) == len(set(stems))
