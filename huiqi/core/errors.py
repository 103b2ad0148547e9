"""Domain errors: what a user can cause, said in the user's language, naming the field and the rule.

A message is a Chinese msgid marked for translation, with ``%(name)s`` placeholders whose values
come as keyword arguments; the English is in the raising app's catalogue::

    raise ValidationFailed("uscc.length", _("统一社会信用代码 %(uscc)s 应为 18 位，实为 %(n)s 位"),
                           field="uscc", value=raw, uscc=code, n=len(code))

``message`` renders it in the active language; ``zh`` and ``en`` render it in either.
"""

from __future__ import annotations

from django.utils import translation

from .i18n import EN, ZH, Message, pick, render  # noqa: F401 - re-exported: raise sites import them here


class DomainError(Exception):
    """A rule a user's input or action broke. Pages and the API turn it into a 4xx, never a 500.

    ``field`` names the input (a form field or a file column) when there is one; ``code`` is a
    stable machine-readable name of the rule; ``params`` fill the message's placeholders.
    ``field`` and ``value`` are keyword-only, so that a call in the former (code, zh, en) form
    fails at once instead of taking the English for a field name.
    """

    status = 400

    def __init__(self, code: str, message, *, field: str | None = None, value: object = None, **params):
        self.code = code
        self.msgid = message
        self.params = params
        self.field = field
        self.value = value
        super().__init__(code)

    def render(self, language: str | None = None) -> str:
        return render(self.msgid, self.params, language)

    @property
    def message(self) -> str:
        """The message in the active language."""
        return self.render()

    @property
    def zh(self) -> str:
        return self.render(ZH)

    @property
    def en(self) -> str:
        return self.render(EN)

    @property
    def in_both_languages(self) -> str:
        """Chinese, then English: for a terminal, which has no language switch (management commands)."""
        return f"{self.zh}（{self.en}）"

    def __str__(self) -> str:
        return f"{self.field + ': ' if self.field else ''}{self.message}"

    def as_dict(self) -> dict:
        """The API's error body: ``message`` in the requester's language, and both languages for
        clients written before ``message`` existed."""
        body = {"code": self.code, "message": self.message, "message_zh": self.zh, "message_en": self.en}
        if self.field:
            body["field"] = self.field
        return body


class ValidationFailed(DomainError):
    """Bad input: a value that breaks a stated rule."""


class InvalidFields(ValidationFailed):
    """Several fields broke their rules at once: every one is named (``errors``), the first leads."""

    def __init__(self, errors: list[DomainError]):
        first = errors[0]
        super().__init__(first.code, "", field=first.field, value=first.value)
        self.errors = errors

    def render(self, language: str | None = None) -> str:
        if language is not None:
            with translation.override(language):
                return self.render()
        return pick("；", "; ").join(e.render() for e in self.errors)

    def as_dict(self) -> dict:
        body = super().as_dict()
        body["details"] = [e.as_dict() for e in self.errors]
        return body


class PermissionDenied(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """An illegal state transition or a concurrent change that lost."""

    status = 409


class AlreadyBuilt(Conflict):
    """Demo data that is there already: the demo is only ever built into empty tables. ``stop`` says
    whether the rest of the demo depends on this part (then nothing after it runs)."""

    stop = False
