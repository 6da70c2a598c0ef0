"""Message ids in the pure core: text shown to people is written in Chinese (the default language)
and marked, so the catalogues (cbt/translations) can translate it where it is shown (cbt.i18n)."""

from __future__ import annotations


class Text(str):
    """A message id: Chinese text to be translated where it is shown (also as a parameter of
    another message: a field's name)."""


def N_(text: str) -> Text:
    """Mark ``text`` as a message id (extracted into the catalogues, translated at the edge)."""
    return Text(text)
