"""Read a question pack folder from disk: size limits, UTF-8, YAML with line numbers.

The core validates plain data (:mod:`cbt.core.packs`); this module turns files into that data and
reports file-level problems (unreadable, too large, not UTF-8, malformed YAML, duplicate keys) in
the same :class:`~cbt.core.errors.Problem` form, with line numbers where YAML gives them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from cbt.adapters import sanitize
from cbt.core.errors import ERROR, Problem
from cbt.core.packs import Pack, PackDocument, build_pack

MAX_YAML_BYTES = 1024 * 1024
MAX_MEDIA_BYTES = 512 * 1024
MEDIA_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}


class LineDict(dict):
    """A mapping that remembers the line it started on (for messages)."""

    line: int | None = None


class LineList(list):
    line: int | None = None


class _Loader(yaml.SafeLoader):
    """The safe loader, recording lines and refusing duplicate keys (a silent overwrite otherwise)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []


def _construct_mapping(loader: _Loader, node: yaml.MappingNode):
    data = LineDict()
    data.line = node.start_mark.line + 1
    yield data
    seen = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node)
        if isinstance(key, (str, int)) and key in seen:
            loader.duplicates.append((str(key), key_node.start_mark.line + 1))
        seen.add(key)
    data.update(loader.construct_mapping(node))


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode):
    data = LineList()
    data.line = node.start_mark.line + 1
    yield data
    data.extend(loader.construct_sequence(node))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


@dataclass
class PackSource:
    meta: PackDocument | None
    items: list[PackDocument]
    media: set[str]
    problems: list[Problem]


def read_yaml(raw: bytes, path: str) -> tuple[object, list[Problem]]:
    """Parse one YAML file's bytes; returns (data or None, problems)."""
    if len(raw) > MAX_YAML_BYTES:
        return None, [
            Problem(ERROR, "file_too_large", f"文件大小 {len(raw)} 字节，超过上限 {MAX_YAML_BYTES} 字节", path)
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(ERROR, "not_utf8", "文件不是 UTF-8 编码，请另存为 UTF-8", path, line)]
    loader = _Loader(text.lstrip("\ufeff"))
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = mark.line + 1 if mark else None
        return None, [Problem(ERROR, "bad_yaml", f"YAML 格式错误：{exc.problem or exc}", path, at)]
    except yaml.YAMLError as exc:
        return None, [Problem(ERROR, "bad_yaml", f"YAML 格式错误：{exc}", path)]
    finally:
        loader.dispose()
    problems = [
        Problem(ERROR, "duplicate_key", f"键 {k!r} 在同一映射中重复出现", path, ln) for k, ln in loader.duplicates
    ]
    return data, problems


def read_pack_dir(root: Path) -> PackSource:
    """Read every file of a pack folder; problems name the file (relative to the pack)."""
    problems: list[Problem] = []
    if not root.is_dir():
        problem = Problem(ERROR, "not_a_pack", f"{root} 不是题库目录（应包含 pack.yaml 和 items/）", str(root))
        return PackSource(None, [], set(), [problem])
    meta = None
    meta_path = root / "pack.yaml"
    if not meta_path.is_file():
        problems.append(Problem(ERROR, "missing_pack_yaml", "缺少 pack.yaml", "pack.yaml"))
    else:
        data, found = read_yaml(meta_path.read_bytes(), "pack.yaml")
        problems += found
        if data is not None:
            meta = PackDocument("pack.yaml", data)
    items = []
    files = sorted((root / "items").glob("**/*.y*ml")) if (root / "items").is_dir() else []
    if not files:
        problems.append(Problem(ERROR, "no_items", "items/ 目录中没有题目文件（*.yaml）", "items/"))
    for file in files:
        rel = file.relative_to(root).as_posix()
        data, found = read_yaml(file.read_bytes(), rel)
        problems += found
        if not found or data is not None:
            items.append(PackDocument(rel, data))
    media = set()
    for file in sorted((root / "media").glob("**/*")) if (root / "media").is_dir() else []:
        if not file.is_file():
            continue
        rel = file.relative_to(root).as_posix()
        if file.suffix.lower() not in MEDIA_SUFFIXES:
            problems.append(Problem(ERROR, "bad_media", f"不支持的图片格式 {file.suffix}", rel))
        elif file.stat().st_size > MAX_MEDIA_BYTES:
            problems.append(Problem(ERROR, "file_too_large", f"图片超过 {MAX_MEDIA_BYTES} 字节", rel))
        else:
            media.add(rel)
    return PackSource(meta, items, media, problems)


def load_pack(root: Path) -> tuple[Pack | None, list[Problem]]:
    """Read and validate a pack folder. Returns (pack, or None if anything is an error; every problem)."""
    source = read_pack_dir(root)
    if source.meta is None:
        return None, source.problems
    pack, problems = build_pack(source.meta, source.items, sanitize=sanitize.clean, media=source.media)
    problems = source.problems + problems
    if any(p.is_error for p in problems):
        return None, problems
    return pack, problems
