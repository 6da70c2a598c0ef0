"""The one place rich text is sanitised (the only module that imports bleach).

Item stems and options are a limited HTML fragment: paragraphs, emphasis, tables, sub/superscript
and images shipped inside the pack. :func:`clean` returns the safe HTML and a list naming what it
removed, so pack validation can warn about the exact item.
"""

from __future__ import annotations

import re

import bleach

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "b", "i", "u", "sub", "sup", "table", "thead", "tbody", "tr", "th", "td", "img"}
)
BLOCK_TAGS = re.compile(r"<\s*(p|table)\b", re.I)
DANGEROUS_ELEMENTS = re.compile(r"<\s*(script|style|iframe|object|embed|noscript)\b.*?(</\s*\1\s*>|$)", re.I | re.S)
TAG_NAMES = re.compile(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9]*)")
MEDIA_PATH = re.compile(r"^media/[A-Za-z0-9_./-]+$")
ATTRIBUTES = {"img": {"src", "alt", "width", "height"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}


def paragraphs(text: str) -> str:
    """Plain text becomes paragraphs: one per blank-line-separated block, single newlines kept."""
    if BLOCK_TAGS.search(text):
        return text
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    return "".join("<p>" + b.replace("\n", "<br>") + "</p>" for b in blocks)


def clean(text: str) -> tuple[str, list[str]]:
    """Sanitise a rich-text fragment. Returns (safe html, what was removed, in Chinese)."""
    removed: list[str] = []

    def drop_element(match: re.Match[str]) -> str:
        removed.append(f"<{match.group(1).lower()}> 元素")
        return ""

    text = DANGEROUS_ELEMENTS.sub(drop_element, text)
    for name in sorted({n.lower() for n in TAG_NAMES.findall(text)} - ALLOWED_TAGS):
        removed.append(f"<{name}> 标签")

    def allow(tag: str, name: str, value: str) -> bool:
        ok = name in ATTRIBUTES.get(tag, ())
        if ok and tag == "img" and name == "src":
            ok = bool(MEDIA_PATH.match(value)) and ".." not in value
            if not ok:
                removed.append(f"图片地址 {value}（只允许题库 media 目录中的图片）")
            return ok
        if not ok:
            removed.append(f"<{tag}> 的属性 {name}={value!r}")
        return ok

    cleaner = bleach.Cleaner(tags=ALLOWED_TAGS, attributes=allow, strip=True, strip_comments=True)
    html = cleaner.clean(paragraphs(text))
    html = re.sub(r"<img(?![^>]*\bsrc=)[^>]*>", "", html)  # an image whose src was refused shows nothing
    return html, removed
