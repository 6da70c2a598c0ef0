"""Every validation error the format promises, each reported with file, line and item, nothing imported."""

from __future__ import annotations

import copy

import pytest

from cbt.adapters.packfiles import MAX_YAML_BYTES, load_pack
from tests.support import packs as tp


def problems_of(tmp_path, meta=None, items=None):
    pack, problems = load_pack(tp.write_pack(tmp_path / "p", meta, items))
    return pack, problems


def codes(problems, severity="error"):
    return {p.code for p in problems if p.severity == severity}


def test_the_tiny_pack_is_valid(tmp_path):
    pack, problems = problems_of(tmp_path)
    assert problems == []
    assert pack is not None and len(pack.items) == 52


def with_item(change, index=0):
    items = tp.items()
    change(items[index])
    return items


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda i: i.update(key="E"), "key_not_an_option"),
        (lambda i: i.update(key=["A", "B"]), "single_key_count"),
        (lambda i: i.update(type="multiple", key=["A"]), "multiple_key_count"),
        (lambda i: i.update(levels=[2]), "unknown_level"),
        (lambda i: i.update(area="nowhere"), "unknown_area"),
        (lambda i: i.update(difficulty=7), "bad_difficulty"),
        (lambda i: i.update(type="essay"), "unknown_type"),
        (lambda i: i.pop("source"), "missing_source"),
        (lambda i: i.pop("explanation"), "missing_explanation"),
        (lambda i: i.update(options={"A": "甲"}), "option_count"),
        (lambda i: i.update(options={"A": "甲", "b": "乙"}), "bad_option_id"),
        (lambda i: i.update(fixed=["Z"]), "bad_fixed"),
        (lambda i: i.update(id="bad id!"), "bad_item_id"),
    ],
)
def test_item_errors_are_reported_and_block_the_pack(tmp_path, change, code):
    pack, problems = problems_of(tmp_path, items=with_item(change))
    assert pack is None
    assert code in codes(problems)
    found = next(p for p in problems if p.code == code)
    assert found.file == "items/bank.yaml"
    assert found.message  # Chinese text for people


def test_problem_names_file_line_and_item(tmp_path):
    _pack, problems = problems_of(tmp_path, items=with_item(lambda i: i.update(key="E"), index=1))
    found = next(p for p in problems if p.code == "key_not_an_option")
    assert (found.file, found.item) == ("items/bank.yaml", "L-S02")
    text = (tmp_path / "p/items/bank.yaml").read_text(encoding="utf-8").splitlines()
    assert "L-S02" in text[found.line - 1]
    assert str(found).startswith("items/bank.yaml:")


def test_judge_options_must_be_true_false(tmp_path):
    items = tp.items()
    judge = next(i for i in items if i["type"] == "judge")
    judge["options"] = {"A": "是", "B": "否"}
    _, problems = problems_of(tmp_path, items=items)
    assert "judge_options" in codes(problems)


def test_judge_key_must_be_true_or_false(tmp_path):
    items = tp.items()
    next(i for i in items if i["type"] == "judge")["key"] = "A"
    _, problems = problems_of(tmp_path, items=items)
    assert "bad_key" in codes(problems)


def test_case_without_questions(tmp_path):
    items = tp.items()
    next(i for i in items if i["type"] == "case")["questions"] = []
    _, problems = problems_of(tmp_path, items=items)
    assert "case_without_questions" in codes(problems)


def test_case_sub_question_errors_name_the_sub_question(tmp_path):
    items = tp.items()
    next(i for i in items if i["id"] == "C-L2")["questions"][1]["key"] = "Z"
    _, problems = problems_of(tmp_path, items=items)
    found = next(p for p in problems if p.code == "key_not_an_option")
    assert found.item == "C-L2.Q2"


def test_duplicate_item_ids(tmp_path):
    items = tp.items()
    items.append(copy.deepcopy(items[0]))
    _, problems = problems_of(tmp_path, items=items)
    assert "duplicate_item_id" in codes(problems)


def test_every_problem_is_reported_at_once(tmp_path):
    items = tp.items()
    items[0]["key"] = "E"
    items[1]["area"] = "nowhere"
    items[2]["difficulty"] = 0
    _, problems = problems_of(tmp_path, items=items)
    assert {"key_not_an_option", "unknown_area", "bad_difficulty"} <= codes(problems)


def test_malformed_yaml_gives_the_line(tmp_path):
    root = tp.write_pack(tmp_path / "p")
    (root / "items" / "broken.yaml").write_text("items:\n  - id: X\n    stem: [unclosed\n", encoding="utf-8")
    pack, problems = load_pack(root)
    assert pack is None
    found = next(p for p in problems if p.code == "bad_yaml")
    assert found.file == "items/broken.yaml" and found.line is not None


def test_non_utf8_file(tmp_path):
    root = tp.write_pack(tmp_path / "p")
    (root / "items" / "gbk.yaml").write_bytes("items:\n  - stem: 劳动法\n".encode("gbk"))
    pack, problems = load_pack(root)
    assert pack is None
    assert "not_utf8" in codes(problems)


def test_file_over_the_size_limit(tmp_path):
    root = tp.write_pack(tmp_path / "p")
    (root / "items" / "huge.yaml").write_bytes(b"# " + b"x" * MAX_YAML_BYTES + b"\n")
    pack, problems = load_pack(root)
    assert pack is None
    assert "file_too_large" in codes(problems)


def test_duplicate_yaml_keys_are_refused(tmp_path):
    root = tp.write_pack(tmp_path / "p")
    text = "items:\n  - id: DUP-1\n    type: single\n    type: judge\n"
    (root / "items" / "dup.yaml").write_text(text, encoding="utf-8")
    _, problems = load_pack(root)
    found = next(p for p in problems if p.code == "duplicate_key")
    assert found.line == 4


def test_unknown_fields_are_warnings(tmp_path):
    pack, problems = problems_of(tmp_path, items=with_item(lambda i: i.update(explaination="typo")))
    assert pack is not None
    assert "unknown_field" in codes(problems, "warning")


@pytest.mark.parametrize(
    "markup",
    [
        "<script>alert(1)</script>题干",
        '<img src="x" onerror="alert(1)">题干',
        '<p onclick="steal()">题干</p>',
        '<a href="javascript:alert(1)">点我</a>题干',
        '<img src="http://evil.example/x.png">题干',
    ],
)
def test_unsafe_markup_is_sanitised_and_named(tmp_path, markup):
    pack, problems = problems_of(tmp_path, items=with_item(lambda i: i.update(stem=markup)))
    assert pack is not None, "unsafe markup is a warning: the sanitised item still imports"
    warning = next(p for p in problems if p.code == "unsafe_markup")
    assert warning.item == "L-S01"
    stem = next(i for i in pack.items if i.id == "L-S01").questions[0].stem
    for bad in ("script", "onerror", "onclick", "javascript:", "http://"):
        assert bad not in stem
    assert "题干" in stem


def test_allowed_rich_text_survives(tmp_path):
    stem = "<p>第一段<strong>重点</strong>H<sub>2</sub>O</p><table><tbody><tr><td>甲</td></tr></tbody></table>"
    pack, problems = problems_of(tmp_path, items=with_item(lambda i: i.update(stem=stem)))
    assert problems == []
    assert next(i for i in pack.items if i.id == "L-S01").questions[0].stem == stem


def test_images_must_ship_inside_the_pack(tmp_path):
    stem = '<p>看图<img src="media/chart.png" alt="图"></p>'
    _, problems = problems_of(tmp_path, items=with_item(lambda i: i.update(stem=stem)))
    assert "missing_media" in codes(problems)
    root = tmp_path / "p"
    (root / "media").mkdir()
    (root / "media" / "chart.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    pack, problems = load_pack(root)
    assert pack is not None and problems == []


def test_plain_text_becomes_paragraphs(tmp_path):
    pack, _ = problems_of(tmp_path, items=with_item(lambda i: i.update(stem="第一段\n\n第二段")))
    assert next(i for i in pack.items if i.id == "L-S01").questions[0].stem == "<p>第一段</p><p>第二段</p>"


# --- blueprints -------------------------------------------------------------------------------


def meta_with(change):
    meta = copy.deepcopy(tp.META)
    change(meta["blueprints"][0])
    return meta


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda b: b["weights"].update(law=50), "weights_not_100"),
        (lambda b: b["sections"][0].update(points=4), "points_not_100"),
        (lambda b: b.update(duration_minutes=60), "duration_too_short"),
        (lambda b: b.update(pass_mark=50), "bad_pass_mark"),
        (lambda b: b.update(level=1), "unknown_level"),
        (lambda b: b["weights"].update(nowhere=0), "unknown_area"),
        (lambda b: b.update(multiple_rule="some"), "unknown_multiple_rule"),
        (lambda b: b.update(weights={"law": 55, "service": 45}), "quota_not_whole"),
    ],
)
def test_blueprint_errors(tmp_path, change, code):
    pack, problems = problems_of(tmp_path, meta=meta_with(change))
    assert pack is None
    assert code in codes(problems)
    assert next(p for p in problems if p.code == code).file == "pack.yaml"


def test_practice_blueprint_may_be_short(tmp_path):
    pack, problems = problems_of(tmp_path, meta=meta_with(lambda b: b.update(certification=False, duration_minutes=30)))
    assert pack is not None and problems == []


def test_explicit_quota_resolves_uneven_weights(tmp_path):
    def change(b):
        b["weights"] = {"law": 55, "service": 45}
        b["sections"] = [
            {"type": "single", "count": 10, "points": 5, "quota": {"law": 6, "service": 4}},
            {"type": "judge", "count": 10, "points": 5, "quota": {"law": 5, "service": 5}},
        ]

    _pack, problems = problems_of(tmp_path, meta=meta_with(change))
    assert problems == [], problems


def test_bank_that_cannot_satisfy_says_which_cell_and_how_many(tmp_path):
    items = [i for i in tp.items() if not (i["type"] == "judge" and i["area"] == "service")][:]
    items += [tp.judge("V-J01", "service"), tp.judge("V-J02", "service")]
    pack, problems = problems_of(tmp_path, items=items)
    assert pack is None
    short = next(p for p in problems if p.code == "bank_short")
    assert "判断题" in short.message and "service" in short.message
    assert "还差 2 题" in short.message


def test_cases_that_cannot_combine_exactly(tmp_path):
    items = [i for i in tp.items() if i["type"] != "case"]
    items += [tp.case("C-L1", "law", 3), tp.case("C-L2", "law", 3), tp.case("C-V1", "service", 5)]
    pack, problems = problems_of(tmp_path, items=items)
    assert pack is None
    assert "cases_unsatisfiable" in codes(problems)


def test_missing_pack_yaml(tmp_path):
    root = tp.write_pack(tmp_path / "p")
    (root / "pack.yaml").unlink()
    pack, problems = load_pack(root)
    assert pack is None and "missing_pack_yaml" in codes(problems)


def test_not_a_folder(tmp_path):
    pack, problems = load_pack(tmp_path / "nothing-here")
    assert pack is None and "not_a_pack" in codes(problems)
