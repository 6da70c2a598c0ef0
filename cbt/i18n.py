"""The one translation layer (the only importer of Flask-Babel and Babel).

Every user-facing string is a message id in Simplified Chinese, the default UI language; the ``en``
catalogue (``cbt/translations/en/LC_MESSAGES``) translates each. Named placeholders (``%(name)s``)
instead of f-strings. Three kinds of text:

- pages (Jinja ``_()``) and views: Flask-Babel, in the request's locale;
- page scripts (``static/js``): their own domain ``js``, handed to each page as a JSON catalogue;
- domain errors (``cbt.core.errors.CbtError``): a message id and parameters, rendered at the edge in
  the locale of the request or of the socket (:func:`render`).

The locale: ``?lang=zh`` or ``?lang=en`` (remembered in the session), else the browser's
``Accept-Language``, else Chinese. Times are shown in the centre's zone (``CBT_TIMEZONE``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, request, session
from flask_babel import Babel, format_datetime, get_locale
from flask_babel import gettext as _gettext
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from cbt.core.errors import CbtError
from cbt.core.text import N_, Text

__all__ = ["N_", "gettext", "render", "translate"]

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DEFAULT_LOCALE = "zh_CN"  # the language of every message id
LOCALES = ("zh_CN", "en")
CHOICES = {"zh": "zh_CN", "zh_CN": "zh_CN", "zh-CN": "zh_CN", "en": "en"}  # ?lang=
LANG_KEY = "lang"
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}


def select_locale() -> str:
    asked = CHOICES.get(request.args.get("lang", ""))
    if asked is not None:
        session[LANG_KEY] = asked
    remembered = session.get(LANG_KEY)
    if remembered in LOCALES:
        return str(remembered)
    return locale_of(request.headers.get("Accept-Language"))


def locale_of(accept_language: str | None) -> str:
    """The locale for an ``Accept-Language`` header (a socket's handshake, a request)."""
    if not accept_language:
        return DEFAULT_LOCALE
    return parse_accept_header(accept_language, LanguageAccept).best_match(LOCALES, default=DEFAULT_LOCALE)


def current_locale() -> str:
    return str(get_locale() or DEFAULT_LOCALE)


def gettext(text: str, **params: Any) -> str:
    """``text`` in the request's locale, its placeholders filled."""
    return _gettext(text, **params)


@functools.cache
def _translations(locale: str) -> NullTranslations:
    if locale == DEFAULT_LOCALE:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [locale])


def translate(text: str, locale: str, params: Mapping[str, Any] | None = None) -> str:
    """``text`` in ``locale`` outside a request (a socket's reply); parameters that are message ids
    (:class:`cbt.core.errors.Text`) are translated too."""
    catalogue = _translations(locale)
    done = catalogue.gettext(text)
    if not params:
        return done
    values = {k: catalogue.gettext(v) if isinstance(v, Text) else v for k, v in params.items()}
    return done % values


def render(exc: CbtError, locale: str | None = None) -> str:
    """A domain error's message for people, in ``locale`` (default: the request's)."""
    return translate(exc.template, locale or current_locale(), exc.params)


@functools.cache
def js_catalogue(locale: str) -> dict[str, str]:
    """The page scripts' catalogue for ``locale``: message id -> translation (empty for Chinese). The
    scripts' own messages (domain ``js``) and the server's (what its JSON and pushes carry in Chinese:
    part, item type and tile names, messages with their parameters)."""
    found: dict[str, str] = {}
    for domain in ("messages", "js"):
        po = TRANSLATIONS / locale / "LC_MESSAGES" / f"{domain}.po"
        if locale == DEFAULT_LOCALE or not po.exists():
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=locale)
        found.update({str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy})
    return found


def init_app(app: Flask, timezone: str) -> None:
    Babel(
        app,
        default_locale=DEFAULT_LOCALE,
        default_timezone=timezone,
        default_translation_directories=str(TRANSLATIONS),
        locale_selector=select_locale,
    )

    @app.context_processor
    def page_language() -> dict[str, Any]:
        locale = current_locale()
        page = {"html_lang": HTML_LANG.get(locale, "zh-CN"), "js_catalogue": js_catalogue(locale), "locale": locale}
        return {**page, "timezone": timezone}

    app.jinja_env.filters["when"] = when


def when(value: str | datetime | None) -> str:
    """A stored time (UTC, or its ISO text) as the centre's clock shows it: 2026-12-08 09:30:05."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return str(format_datetime(moment, "yyyy-MM-dd HH:mm:ss"))
