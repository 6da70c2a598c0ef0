"""The message catalogues: ``python tools/i18n.py update`` extracts every message id (the server's code,
the pages, the page scripts) and merges them into each locale's catalogue; ``check`` (run by
``make lint``) fails when a message id is missing from a catalogue or untranslated, when a compiled
catalogue is stale, or when a user-facing Chinese string is not marked for translation."""

from __future__ import annotations

import ast
import io
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "cbt" / "translations"
LOCALES = ("en",)
CJK = re.compile(r"[\u3400-\u9fff]")  # ideographs (punctuation alone is no message)
sys.path.insert(0, str(ROOT))
from cbt.core.errors import CbtError  # noqa: E402  (the project's own error classes are message keywords)


def _subclasses(cls: type) -> list[type]:
    return [cls] + [c for sub in cls.__subclasses__() for c in _subclasses(sub)]


ERRORS = tuple(sorted({c.__name__ for c in _subclasses(CbtError)}))  # their first argument is a message id
KEYWORDS = {name: None for name in ("_", "gettext", "lazy_gettext", "N_", *ERRORS)}
DOMAINS = {
    "messages": [("cbt/**.py", "python"), ("templates/**.html", "jinja2")],
    "js": [("static/js/**.js", "javascript")],
}
# Where every Chinese string a candidate or proctor sees must be marked. The command line, pack
# validation and paper assembly speak to administrators and item writers in Chinese for now.
MARKED = ["cbt/web/api.py", "cbt/web/auth.py", "cbt/web/candidate.py", "cbt/web/errors.py", "cbt/web/proctor.py"]
MARKED += ["cbt/web/ratelimit.py", "cbt/realtime", "cbt/services/attempts.py", "cbt/services/paper_view.py"]
MARKED += ["cbt/services/proctoring", "cbt/core/signals.py", "cbt/core/seating.py", "cbt/core/events.py"]


def extract(domain: str) -> Catalog:
    catalog = Catalog(project="cbt", locale=None, domain=domain)
    for pattern, method in DOMAINS[domain]:
        folder, glob = pattern.split("/", 1)
        for filename, lineno, message, comments, _context in extract_from_dir(
            ROOT / folder, [(glob, method)], keywords=KEYWORDS, comment_tags=("i18n:",)
        ):
            if isinstance(message, tuple):
                message = message[0]
            if message:
                catalog.add(message, locations=[(f"{folder}/{filename}", lineno)], auto_comments=comments)
    return catalog


def po_path(locale: str, domain: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / f"{domain}.po"


def read(path: Path, locale: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=locale, domain=path.stem)
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def update() -> None:
    for domain in DOMAINS:
        template = extract(domain)
        for locale in LOCALES:
            path = po_path(locale, domain)
            catalog = read(path, locale)
            catalog.update(template, no_fuzzy_matching=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as f:
                write_po(f, catalog, width=0, sort_by_file=True, omit_header=False)
            if domain == "messages":
                path.with_suffix(".mo").write_bytes(compiled(catalog))
            missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
            print(f"{path.relative_to(ROOT)}: {len(catalog)} messages, {len(missing)} to translate")


def unmarked() -> list[str]:
    """Chinese strings shown to people that no gettext call or marker wraps."""
    found = []
    for top in MARKED:
        paths = [ROOT / top] if top.endswith(".py") else sorted((ROOT / top).rglob("*.py"))
        for path in paths:
            found += [f"{path.relative_to(ROOT)}:{n}" for n in _unmarked_python(path)]
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        for line in text.splitlines():
            if CJK.search(line):
                found.append(f"{path.relative_to(ROOT)}: {line.strip()[:40]}")
    for path in sorted((ROOT / "static" / "js").rglob("*.js")):
        if path.name == "states.js":  # generated from cbt.core, whose names are marked there
            continue
        text = re.sub(r"/\*.*?\*/|//[^\n]*", "", path.read_text(encoding="utf-8"), flags=re.S)
        for match in re.finditer(r"(?<!_\()(\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|`[^`]*`)", text):
            if CJK.search(match.group(1)):
                found.append(f"{path.relative_to(ROOT)}: {match.group(1)[:40]}")
    return found


def _unmarked_python(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    allowed: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            allowed.add(id(body[0].value))  # docstrings
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in KEYWORDS and node.args:
                allowed.add(id(node.args[0]))
            if name in ("debug", "info", "warning", "error", "exception"):  # logs are for operators
                allowed.update(id(a) for a in node.args)
    lines = []
    for node in ast.walk(tree):
        if id(node) in allowed:
            continue
        if (isinstance(node, ast.Constant) and isinstance(node.value, str) and CJK.search(node.value)) or (
            isinstance(node, ast.JoinedStr) and CJK.search(ast.unparse(node))
        ):
            lines.append(node.lineno)
    return sorted(set(lines))


def problems() -> list[str]:
    found = [f"not marked for translation: {where}" for where in unmarked()]
    for domain in DOMAINS:
        ids = {m.id for m in extract(domain) if m.id}
        for locale in LOCALES:
            path = po_path(locale, domain)
            catalog = read(path, locale)
            have = {m.id: m for m in catalog if m.id}
            found += [f"{path.name} ({locale}): not extracted yet: {i!r}" for i in sorted(ids - set(have))]
            found += [
                f"{path.name} ({locale}): untranslated: {i!r}"
                for i in sorted(ids & set(have))
                if not have[i].string or have[i].fuzzy
            ]
            mo = path.with_suffix(".mo")
            if domain == "messages" and (not mo.exists() or mo.read_bytes() != compiled(catalog)):
                found.append(f"{mo.relative_to(ROOT)} is stale: run make i18n")
    return found


def main(argv: list[str]) -> int:
    if argv[1:] == ["update"]:
        update()
        return 0
    if argv[1:] == ["check"]:
        found = problems()
        for line in found:
            print(line, file=sys.stderr)
        if found:
            print(f"{len(found)} translation problems: mark the strings, then make i18n and translate", file=sys.stderr)
        return 1 if found else 0
    print("usage: python tools/i18n.py update|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
