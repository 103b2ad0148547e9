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
    """``huiqi import KIND FILE``: ``load(path, progress)`` returns the finished upload record."""
    load: Callable
    help: str = ""


@dataclass(frozen=True)
class Exporter:
    """``huiqi export KIND FILE``: ``write(path)`` returns how many records it wrote."""
    write: Callable[..., int]
    help: str = ""
