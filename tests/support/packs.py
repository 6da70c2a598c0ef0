"""Build small, valid question packs on disk for tests, to be broken one way at a time."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

META = {
    "pack": "tiny",
    "version": "1",
    "occupation": {"code": "3-01-04-03", "name": "劳动保障协理员"},
    "levels": [4, 3],
    "areas": [{"code": "law", "name": "法律"}, {"code": "service", "name": "服务"}],
    "blueprints": [
        {
            "level": 4,
            "part": "theory",
            "certification": True,
            "duration_minutes": 90,
            "pass_mark": 60,
            "sections": [{"type": "single", "count": 10, "points": 5}, {"type": "judge", "count": 10, "points": 5}],
            "weights": {"law": 60, "service": 40},
        },
        {
            "level": 4,
            "part": "skill",
            "certification": True,
            "duration_minutes": 90,
            "pass_mark": 60,
            "sections": [{"type": "case", "count": 10, "points": 10}],
            "weights": {"law": 50, "service": 50},
        },
    ],
}


def single(item_id: str, area: str, difficulty: int = 3, key: str = "A") -> dict:
    return {
        "id": item_id,
        "type": "single",
        "levels": [4, 3],
        "area": area,
        "difficulty": difficulty,
        "stem": f"题干 {item_id}（  ）",
        "options": {"A": "甲", "B": "乙", "C": "丙", "D": "丁"},
        "key": key,
        "explanation": "解析",
        "source": "《中华人民共和国劳动法》第一条",
    }


def judge(item_id: str, area: str, difficulty: int = 3) -> dict:
    return {
        "id": item_id,
        "type": "judge",
        "levels": [4, 3],
        "area": area,
        "difficulty": difficulty,
        "stem": f"判断 {item_id}",
        "key": "对",
        "explanation": "解析",
        "source": "《中华人民共和国劳动法》第二条",
    }


def case(item_id: str, area: str, size: int, difficulty: int = 3) -> dict:
    return {
        "id": item_id,
        "type": "case",
        "levels": [4, 3],
        "area": area,
        "difficulty": difficulty,
        "source": "《中华人民共和国劳动合同法》第十条",
        "stem": f"案例 {item_id}：某单位……",
        "questions": [
            {
                "id": f"Q{n}",
                "stem": f"小题 {n}（  ）",
                "options": {"A": "甲", "B": "乙", "C": "丙", "D": "丁"},
                "key": "B",
                "explanation": "解析",
            }
            for n in range(1, size + 1)
        ],
    }


def items() -> list[dict]:
    """Enough for two forms of each blueprint with no overlap: law single 6, judge 6; service 4 and 4."""
    out = [single(f"L-S{n:02d}", "law", 1 + n % 5) for n in range(1, 14)]
    out += [single(f"V-S{n:02d}", "service", 1 + n % 5) for n in range(1, 10)]
    out += [judge(f"L-J{n:02d}", "law", 1 + n % 5) for n in range(1, 14)]
    out += [judge(f"V-J{n:02d}", "service", 1 + n % 5) for n in range(1, 10)]
    out += [case("C-L1", "law", 2), case("C-L2", "law", 3), case("C-L3", "law", 2), case("C-L4", "law", 3)]
    out += [
        case("C-V1", "service", 2),
        case("C-V2", "service", 3),
        case("C-V3", "service", 3),
        case("C-V4", "service", 2),
    ]
    return out


def write_pack(root: Path, meta: dict | None = None, item_list: list[dict] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "items").mkdir(exist_ok=True)
    dump = {"allow_unicode": True, "sort_keys": False}
    (root / "pack.yaml").write_text(yaml.safe_dump(meta or copy.deepcopy(META), **dump), encoding="utf-8")
    content = yaml.safe_dump({"items": items() if item_list is None else item_list}, **dump)
    (root / "items" / "bank.yaml").write_text(content, encoding="utf-8")
    return root
