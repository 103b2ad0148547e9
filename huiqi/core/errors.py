"""Domain errors: what a user can cause, said in Chinese and English, naming the field and the rule."""

from __future__ import annotations


class DomainError(Exception):
    """A rule a user's input or action broke. Pages and the API turn it into a 4xx, never a 500.

    ``field`` names the input (a form field or a file column) when there is one; ``code`` is a
    stable machine-readable name of the rule.
    """

    status = 400

    def __init__(self, code: str, zh: str, en: str, field: str | None = None, value: object = None):
        self.code = code
        self.zh = zh
        self.en = en
        self.field = field
        self.value = value
        super().__init__(f"{field + ': ' if field else ''}{zh} / {en}")

    @property
    def message(self) -> str:
        """Both languages in one line, Chinese first."""
        return f"{self.zh}（{self.en}）"

    def as_dict(self) -> dict:
        body = {"code": self.code, "message_zh": self.zh, "message_en": self.en}
        if self.field:
            body["field"] = self.field
        return body


class ValidationFailed(DomainError):
    """Bad input: a value that breaks a stated rule."""


class InvalidFields(ValidationFailed):
    """Several fields broke their rules at once: every one is named (``errors``), the first leads."""

    def __init__(self, errors: list[DomainError]):
        first = errors[0]
        super().__init__(first.code, "；".join(e.zh for e in errors), "; ".join(e.en for e in errors),
                         field=first.field, value=first.value)
        self.errors = errors

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
