"""The one translation layer. Source strings are Simplified Chinese (the default UI language);
another locale adds a catalogue mapping each Chinese string to its translation."""

from __future__ import annotations

CATALOGUES: dict[str, dict[str, str]] = {"zh-CN": {}}
DEFAULT_LOCALE = "zh-CN"


def gettext(text: str, locale: str = DEFAULT_LOCALE) -> str:
    return CATALOGUES.get(locale, {}).get(text, text)
