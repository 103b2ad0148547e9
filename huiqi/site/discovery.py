"""What each app declares to the site, found the way Django finds ``admin.py``.

An app may have two modules the site looks for (each optional):

``permissions.py``
    the app's ``rules`` permissions (imported once, when the site is ready);
``site.py``
    what the app adds to the platform, as module-level names:

    ``NAVIGATION``
        ``[Nav(...), ...]`` (the records are in ``huiqi.core.declarations``): menu entries, each with the permission that shows it;
    ``API_ROUTES``
        ``[Route(...), ...]``: REST viewsets for the one router at ``/api/v1/``;
    ``API_URLS``
        a dotted path to a list of extra URL patterns under ``/api/v1/``;
    ``DEMO``
        ``[DemoStep(...), ...]``: the app's part of ``huiqi demo``;
    ``IMPORTERS`` / ``EXPORTERS``
        ``{kind: Importer/Exporter}``: what ``huiqi import KIND FILE`` / ``huiqi export KIND FILE`` load
        and write;
    ``HOME``
        ``[callable(user) -> dict | None]``: panels of the home page, each a template and its context;
    ``PARAMETERS`` / ``PARAMETER_LABELS``
        ``{key: schema}`` of the app's parameters (``core.params``) and ``{key: label}`` their names;
    ``AUDIT_ACTIONS``
        ``{action: label}``: the names of the app's audit actions on the audit pages.
    ``AUDIT_LINKS``
        ``{"app.Model": AuditLink(...)}``: where the audit pages link a record of the app's models.
    ``TODOS``
        ``[Todo(...), ...]``: what waits for the signed-in person (我的待办 on the home page), each a
        count and a link to its list;
    ``ENTERPRISE_PROGRAMS``
        ``[EnterpriseProgram(...), ...]``: what an enterprise has in the program, on its page
        (参与的惠企项目).

Adding an app means its folder, one line in ``INSTALLED_APPS`` and one in ``huiqi/urls.py``; nothing
here changes.
"""

from __future__ import annotations

import functools
from importlib import import_module
from typing import Callable

from django.apps import apps
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string, module_has_submodule

from huiqi.core.declarations import DemoStep, EnterpriseProgram, Exporter, Importer, Route, Todo


def _project_apps():
    return [a for a in apps.get_app_configs() if a.name.startswith("huiqi.") and a.name != "huiqi.site"]


def _module(app, name: str):
    if module_has_submodule(app.module, name):
        return import_module(f"{app.name}.{name}")
    return None


@receiver(setting_changed)
def _apps_changed(setting, **kwargs):
    if setting == "INSTALLED_APPS":
        declarations.cache_clear()


def load_permissions() -> None:
    for app in _project_apps():
        _module(app, "permissions")


@functools.cache
def declarations() -> tuple:
    """Every app's ``site`` module, in ``INSTALLED_APPS`` order."""
    return tuple(m for m in (_module(app, "site") for app in _project_apps()) if m is not None)


def collect(name: str) -> list:
    out = []
    for module in declarations():
        out.extend(getattr(module, name, ()))
    return out


def collect_dict(name: str) -> dict:
    out: dict = {}
    for module in declarations():
        for key, value in getattr(module, name, {}).items():
            if key in out:
                raise ValueError(f"{name}: {key!r} is declared by two apps")
            out[key] = value
    return out


def api_routes() -> list[Route]:
    routes = collect("API_ROUTES")
    return [r for r in routes if r.first] + [r for r in routes if not r.first]


def api_urls() -> list:
    out = []
    for module in declarations():
        if getattr(module, "API_URLS", None):
            out.extend(import_string(module.API_URLS))
    return out


def demo_steps() -> list[DemoStep]:
    return sorted(collect("DEMO"), key=lambda s: s.order)


def importers() -> dict[str, Importer]:
    return collect_dict("IMPORTERS")


def exporters() -> dict[str, Exporter]:
    return collect_dict("EXPORTERS")


def home_panels() -> list[Callable]:
    return collect("HOME")


def todos() -> list[Todo]:
    return sorted(collect("TODOS"), key=lambda t: t.order)


def enterprise_programs() -> list[EnterpriseProgram]:
    return sorted(collect("ENTERPRISE_PROGRAMS"), key=lambda p: p.order)
