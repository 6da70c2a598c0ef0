"""Assembly: exact blueprints, determinism, parallel forms, per-candidate order."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from cbt.adapters.packfiles import load_pack
from cbt.core.assembly import assemble, assemble_parallel, candidate_order, overlap, shuffle_options
from cbt.core.blueprint import quotas
from cbt.core.errors import AssemblyError
from tests.support import packs as tp


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    pack, problems = load_pack(tp.write_pack(tmp_path_factory.mktemp("tiny") / "p"))
    assert pack is not None, problems
    return pack


def test_every_bundled_blueprint_is_met_exactly(lsa_pack):
    assert len(lsa_pack.blueprints) == 6
    for bp in lsa_pack.blueprints:
        for seed in range(5):
            form = assemble(bp, lsa_pack.items, seed)
            assert form.total_points == 100
            assert form.counts() == quotas(bp)
            assert form.totals_by_area() == {a: w for a, w in bp.weights if w}
            assert all(item.serves(bp.level) for item in (e.item for e in form.entries))
            assert len(form.item_ids) == len(form.entries), "no item twice"


def test_same_seed_same_form_other_seed_other_form(lsa_pack):
    bp = lsa_pack.blueprint(4, "theory")
    a, b = assemble(bp, lsa_pack.items, 7), assemble(bp, lsa_pack.items, 7)
    assert [e.item.id for e in a.entries] == [e.item.id for e in b.entries]
    assert a.to_json() == b.to_json()
    c = assemble(bp, lsa_pack.items, 8)
    assert a.item_ids != c.item_ids


def test_retired_items_are_never_drawn(tiny):
    from dataclasses import replace

    bp = tiny.blueprint(4, "theory")
    retired = {"L-S01", "L-S02", "L-J01"}
    items = [replace(i, retired=True) if i.id in retired else i for i in tiny.items]
    for seed in range(10):
        assert not assemble(bp, items, seed).item_ids & retired


def test_parallel_forms_respect_overlap_and_difficulty(lsa_pack):
    for bp in lsa_pack.blueprints:
        parallel = assemble_parallel(bp, lsa_pack.items, "2026", 2, max_overlap=0.5, max_spread=0.25)
        assert parallel.max_overlap() <= 0.5
        assert parallel.difficulty_spread() <= 0.25
        for form in parallel.forms:
            assert form.counts() == quotas(bp)
        report = parallel.report()
        assert set(report) >= {"forms", "overlap", "max_overlap", "difficulty_spread"}


def test_three_forms_from_the_tiny_bank(tiny):
    parallel = assemble_parallel(tiny.blueprint(4, "theory"), tiny.items, 1, 3, max_overlap=0.7)
    assert [f.label for f in parallel.forms] == ["A", "B", "C"]
    a, b, c = parallel.forms
    assert max(overlap(a, b), overlap(a, c), overlap(b, c)) <= 0.7
    assert overlap(a, b) < 0.2, "the second form avoids what the first used"


def test_impossible_bounds_are_refused(tiny):
    with pytest.raises(AssemblyError) as err:
        assemble_parallel(tiny.blueprint(4, "theory"), tiny.items, 1, 4, max_overlap=0.0)
    assert err.value.code == "parallel_bounds"


def test_a_short_bank_says_what_is_missing(tiny):
    items = [i for i in tiny.items if not (i.type == "single" and i.area == "service")]
    with pytest.raises(AssemblyError) as err:
        assemble(tiny.blueprint(4, "theory"), items, 1)
    assert err.value.code == "bank_short"
    assert {"type": "single", "area": "service", "needed": 4, "available": 0} in err.value.detail


def test_cases_are_drawn_whole(tiny):
    bp = tiny.blueprint(4, "skill")
    for seed in range(10):
        form = assemble(bp, tiny.items, seed)
        assert form.counts() == {("case", "law"): 5, ("case", "service"): 5}
        assert all(e.item.is_case for e in form.entries)


def test_json_shape_is_stable(lsa_pack):
    data = assemble(lsa_pack.blueprint(3, "skill"), lsa_pack.items, 7).to_json()
    assert set(data) >= {"level", "part", "items", "totals_by_area", "total_points"}
    case = data["items"][0]
    assert set(case) >= {"id", "type", "area", "points"}
    assert all(set(q) == {"id", "area", "points"} for q in case["questions"])
    assert sum(q["points"] for q in case["questions"]) == case["points"]


def test_shuffle_keeps_fixed_options_in_place():
    for seed in range(50):
        order = shuffle_options(["A", "B", "C", "D"], ["D"], random.Random(seed))
        assert order[3] == "D" and sorted(order) == ["A", "B", "C", "D"]
    seen = {shuffle_options(["A", "B", "C", "D"], ["D"], random.Random(s)) for s in range(50)}
    assert len(seen) == 6, "every order of the three movable options occurs"


def test_candidate_order_is_reproducible_and_stays_within_sections(lsa_pack):
    form = assemble(lsa_pack.blueprint(3, "theory"), lsa_pack.items, 1)
    one, again, other = candidate_order(form, "S1"), candidate_order(form, "S1"), candidate_order(form, "S2")
    assert one == again and one != other
    types = [next(e.item.type for e in form.entries if e.item.id == d.id) for d in one]
    assert types == sorted(types, key=["single", "multiple", "judge"].index), "sections keep their order"
    by_id = {e.item.id: e.item for e in form.entries}
    for delivered in one:
        for dq, q in zip(delivered.questions, by_id[delivered.id].questions, strict=True):
            assert sorted(dq.options) == sorted(q.option_ids)
            if q.type == "judge":
                assert dq.options == ("T", "F")
    assert Counter(d.id for d in one) == Counter(e.item.id for e in form.entries)
