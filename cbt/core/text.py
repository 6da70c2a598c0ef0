"""Message ids in the pure core: text shown to people is written in Chinese (the default language)
and marked, so the catalogues (cbt/translations) can translate it where it is shown (cbt.i18n)."""

from __future__ import annotations


class Text(str):
    """A message id: Chinese text to be translated where it is shown (also as a parameter of
    another message: a field's name)."""


def N_(text: str) -> Text:
    """Mark ``text`` as a message id (extracted into the catalogues, translated at the edge)."""
    return Text(text)


class Said(str):
    """A message as said: its Chinese text (the string itself), and its message id and parameters,
    from which the edge or the page renders it in another language."""

    template: str
    params: dict[str, object]

    def __new__(cls, template: str, **params: object) -> Said:
        said = super().__new__(cls, template % params if params else template)
        said.template, said.params = template, params
        return said

    def as_dict(self) -> dict[str, object]:
        """The message id and its parameters (as the pages translate it)."""
        return {"id": self.template, "params": {k: str(v) for k, v in self.params.items()}}


def say(template: str, **params: object) -> Said:
    """``template`` (a message id with ``%(name)s`` placeholders) said with ``params``."""
    return Said(template, **params)


def message_of(text: str) -> dict[str, object]:
    """A text's message id and parameters, as stored with an event and sent to the pages."""
    return text.as_dict() if isinstance(text, Said) else {"id": str(text), "params": {}}
