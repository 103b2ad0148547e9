"""One language per screen: the helpers every app uses to show a text in the reader's language.

The mechanism is gettext: source strings are Chinese msgids, English is in each app's catalogue
(``huiqi/<app>/locale/en/LC_MESSAGES/django.po``). This module adds what gettext alone does not give:

- ``render``/``Message``: a msgid with ``%(name)s`` params, translated when it is shown, so that a
  text built now (an error, a size class's reason) reads in whichever language asks for it later;
- ``Joined``: a list of such texts with the separator of the language (``；`` or ``; ``);
- ``localized``: reference data kept in the database with a Chinese ``name`` and an English
  ``name_en`` (districts, industries, departments, request categories, fund institutions), shown in
  the reader's language (template filter ``localized`` of ``{% load lang %}``);
- ``stored``/``shown``: a message written into the database (an upload's outcome, a job's failure)
  as its msgid and params, translated when a page shows it;
- ``pick``: of a text kept in both languages (the two columns of an error report), the reader's.
"""

from __future__ import annotations

import datetime as dt
import json

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext

ZH = "zh-hans"
EN = "en"


def english() -> bool:
    """Whether the active language is English (the platform's other language is Chinese)."""
    return (translation.get_language() or ZH).startswith("en")


def render(message, params: dict | None = None, language: str | None = None) -> str:
    """A msgid (lazy or plain) with its params, translated into ``language`` (else the active one)."""
    if language is not None:
        with translation.override(language):
            return render(message, params)
    if not message:
        return ""
    text = gettext(message) if isinstance(message, str) else str(message)
    return text % {k: _shown_param(v) for k, v in params.items()} if params else text


def _shown_param(value):
    """A moment in a message is read in Beijing time (``str`` of a datetime would show its UTC)."""
    if isinstance(value, dt.datetime):
        from .formats import beijing

        return beijing(value)
    return value


def pick(zh: str, en: str) -> str:
    """Of a text kept in both languages (an error report's two columns), the one of the page."""
    return en if english() else zh


class Either:
    """A text kept in both languages (a line of an error report), shown in the reader's."""

    def __init__(self, zh: str, en: str):
        self.zh, self.en = zh, en

    def __str__(self) -> str:
        return pick(self.zh, self.en)


class Message:
    """A msgid with its params, rendered in the active language each time it is shown: a part of
    another message, or a text built now and read later in either language."""

    def __init__(self, message, **params):
        self.msgid = message
        self.params = params

    def __str__(self) -> str:
        return render(self.msgid, self.params)

    def __repr__(self) -> str:
        return f"Message({msgid_of(self.msgid)!r}, {self.params!r})"

    def __eq__(self, other):
        return isinstance(other, Message) and (msgid_of(self.msgid), self.params) == (
            msgid_of(other.msgid), other.params)

    __hash__ = None


class Joined:
    """Texts joined with the separator of the language they are shown in."""

    def __init__(self, parts, zh: str = "；", en: str = "; "):
        self.parts, self.zh, self.en = list(parts), zh, en

    def __str__(self) -> str:
        return pick(self.zh, self.en).join(str(p) for p in self.parts)

    def __bool__(self) -> bool:
        return bool(self.parts)


def localized(obj, field: str = "name") -> str:
    """A reference row's ``name`` (or ``field``) in the reader's language: ``<field>_en`` in English
    when it is filled, else the Chinese. ``obj`` may be a model instance or a dict of values."""
    if obj is None:
        return ""
    get = obj.get if isinstance(obj, dict) else lambda key, default=None: getattr(obj, key, default)
    if english():
        en = get(f"{field}_en", None)
        if en:
            return en
    return get(field, "") or ""


def both_names(obj, field: str = "name") -> Either:
    """A reference row's name in both languages, for a message kept in the database (``stored``)."""
    zh = getattr(obj, field, "") or ""
    return Either(zh, getattr(obj, f"{field}_en", "") or zh)


# --- messages kept in the database -------------------------------------------------------------------

_STORED = '{"msgid":'


def msgid_of(message) -> str:
    """The Chinese msgid of a lazy translation (or a plain string)."""
    if isinstance(message, Promise):
        args = getattr(message, "_args", None)
        if args and isinstance(args[0], str):
            return args[0]
        with translation.override(ZH):
            return str(message)
    return str(message)


def _storable(value):
    if isinstance(value, Promise):
        return {"msgid": msgid_of(value)}
    if isinstance(value, Message):
        return {"msgid": msgid_of(value.msgid), "params": {k: _storable(v) for k, v in value.params.items()}}
    if isinstance(value, Joined):
        return {"joined": [_storable(p) for p in value.parts], "zh": value.zh, "en": value.en}
    if isinstance(value, Either):
        return {"either": [value.zh, value.en]}
    if isinstance(value, (int, float, str)) or value is None:
        return value
    return str(_shown_param(value))


def _restored(value):
    if isinstance(value, dict) and "msgid" in value:
        return Message(value["msgid"], **{k: _restored(v) for k, v in value.get("params", {}).items()})
    if isinstance(value, dict) and "either" in value:
        return Either(*value["either"])
    if isinstance(value, dict) and "joined" in value:
        return Joined([_restored(p) for p in value["joined"]], value.get("zh", "；"), value.get("en", "; "))
    return value


def stored(message, **params) -> str:
    """A message to keep in a text column and translate when shown (see ``shown``). ``message`` is a
    msgid marked for extraction (``gettext_lazy`` or ``gettext_noop``); params may be lazy too."""
    body = {"msgid": msgid_of(message), "params": {k: _storable(v) for k, v in params.items()}}
    return json.dumps(body, ensure_ascii=False)


def stored_error(error) -> str:
    """A domain error kept the same way, to be shown in the language of whoever reads it."""
    return stored(error.msgid, **error.params) if error.msgid else error.message


def shown(text: str) -> str:
    """A text kept by ``stored`` in the active language; any other text as it is."""
    if not text or not text.startswith(_STORED):
        return text or ""
    try:
        body = json.loads(text)
    except ValueError:
        return text
    return str(_restored(body))
