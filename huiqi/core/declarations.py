"""What an app declares to the site, in its ``site.py`` (see ``huiqi.site.discovery``).

These are plain records so that an app needs nothing but ``core`` to declare itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Nav:
    """A menu entry: the URL name, its label, the permission that shows it (None: every signed-in
    user), its place (lower first) and, per role, another label for the same page ("我的企业")."""

    url_name: str
    label: Any
    permission: str | None = None
    order: int = 500
    role_labels: dict = field(default_factory=dict)
    roles: frozenset | None = None  # None: every role that has the permission


@dataclass(frozen=True)
class Route:
    """A REST viewset under ``/api/v1/<prefix>/``; ``first`` routes are tried before the others."""
    prefix: str
    viewset: str  # dotted path, imported when the router is built
    basename: str
    first: bool = False


@dataclass(frozen=True)
class DemoStep:
    """A part of ``huiqi demo``: ``build(scale, seed, progress)`` returns what to print. Steps run in
    ``order``; one that raises ``huiqi.core.errors.AlreadyBuilt`` is skipped with its message, and when
    the exception says ``stop`` no later step runs."""

    order: int
    build: Callable[..., str]


@dataclass(frozen=True)
class Importer:
    """``huiqi import KIND FILE``: ``load(path, progress)`` returns the finished upload record. A kind whose
    rows are a named person's acts (``as_user``) is loaded as ``load(path, progress, user)``, the user given
    by ``--as USERNAME``, which it then requires."""
    load: Callable
    help: str = ""
    as_user: bool = False


@dataclass(frozen=True)
class Exporter:
    """``huiqi export KIND FILE``: ``write(path)`` returns how many records it wrote."""
    write: Callable[..., int]
    help: str = ""


@dataclass(frozen=True)
class Todo:
    """A to-do of the home page (我的待办): how many things wait for the signed-in person, as a link to
    the list that shows them.

    ``count(user)`` counts through the app's scoped selectors (0: nothing waits, and the to-do is not
    shown); ``query`` is the list's filters, a dict or ``user -> dict``. It is asked only of the roles in
    ``roles`` (None: every role) that hold ``permission`` (None: every signed-in user). ``link(user,
    count)``, when given, is the address itself (the one record that waits, rather than a list of one).
    ``name`` is a stable key (``resumption.filings_to_verify``) for pages and tests."""

    name: str
    label: Any
    count: Callable[[Any], int]
    url_name: str
    query: dict | Callable[[Any], dict] = field(default_factory=dict)
    permission: str | None = None
    roles: frozenset | None = None
    order: int = 500
    link: Callable[[Any, int], str | None] | None = None


@dataclass(frozen=True)
class EnterpriseProgram:
    """One program on an enterprise's page (参与的惠企项目). ``summary(user, enterprise)`` reads, through
    the app's scoped selectors, what the enterprise has in the program that ``user`` may see: None when
    nothing, else ``{"facts": [(label, value), ...], "url": a list of it or None}``."""

    name: str
    label: Any
    summary: Callable[[Any, Any], dict | None]
    order: int = 500


@dataclass(frozen=True)
class AuditLink:
    """Where the audit pages link a record of one model (``AUDIT_LINKS = {"app.Model": AuditLink(...)}``):
    ``url(obj)`` is its page, shown to a reader who holds ``permission`` for it."""

    permission: str
    url: Callable[[Any], str]
