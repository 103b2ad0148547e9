"""The layout's promises: a new program is its folder plus two lines, ``core`` imports no app, and an
app reaches another only through its ``selectors`` and ``services``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from huiqi.accounts.models import User
from huiqi.site import discovery, navigation
from huiqi.site.api import build_router
from huiqi.site.todos import todos_for

PACKAGE = Path(__file__).resolve().parents[2]  # huiqi/
PUBLIC = {"selectors", "services"}
# A pure rules module may build on another app's of the same kind (the per-loan rules, their columnar form).
PURE = {"rules", "rules_columnar"}


def _imports(path: Path):
    """(line, imported module) for every absolute import of a ``huiqi.`` module in a file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("huiqi."):
            if node.module.count(".") == 1:  # from huiqi.registry import selectors
                yield from ((node.lineno, f"{node.module}.{a.name}") for a in node.names)
            else:
                yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            yield from ((node.lineno, a.name) for a in node.names if a.name.startswith("huiqi."))


def _apps():
    return sorted(p.name for p in PACKAGE.iterdir() if (p / "apps.py").exists() and p.name != "site")


def layout_violations(package: Path = PACKAGE) -> list[str]:
    apps = set(_apps())
    found = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).parts
        if len(parts) < 2 or parts[0] not in apps or "tests" in parts or "migrations" in parts:
            continue
        app, module = parts[0], path.stem
        for line, imported in _imports(path):
            target = imported.split(".")
            other = target[1]
            if other == app or other not in apps | {"site"}:
                continue
            where = f"{path.relative_to(package.parent)}:{line} imports {imported}"
            if app == "core":
                found.append(f"{where} (core imports no app)")
            elif other == "site":
                found.append(f"{where} (apps declare themselves in site.py; the site imports them, not back)")
            elif other == "core":
                continue
            elif len(target) < 3 or target[2] not in PUBLIC | ({module} if module in PURE else set()):
                found.append(f"{where} (another app is reached through its selectors and services only)")
    return found


def test_core_imports_no_app_and_apps_meet_only_through_selectors_and_services():
    assert layout_violations() == []


def test_the_layout_check_catches_a_wrong_import(tmp_path):
    for app, text in {
        "core": "from huiqi.registry.models import Enterprise\n",
        "lending": "from huiqi.registry import selectors\nfrom huiqi.registry.models import Bank\n"
                   "import huiqi.accounts.scoping\n",
        "subsidy": "from huiqi.lending.selectors import loans\n",
        "registry": "",
        "accounts": "",
    }.items():
        (tmp_path / app).mkdir()
        (tmp_path / app / "apps.py").write_text("")
        (tmp_path / app / "x.py").write_text(text)
    assert [v.split(" (")[0] for v in layout_violations(tmp_path)] == [
        f"{tmp_path.name}/core/x.py:1 imports huiqi.registry.models",
        f"{tmp_path.name}/lending/x.py:2 imports huiqi.registry.models",
        f"{tmp_path.name}/lending/x.py:3 imports huiqi.accounts.scoping",
    ]


NEW_PROGRAM = {
    "INSTALLED_APPS": [*settings.INSTALLED_APPS, "huiqi.site.tests.sample_program"],
    "ROOT_URLCONF": "huiqi.site.tests.sample_program.root_urls",
}


@pytest.mark.django_db
def test_a_new_program_needs_its_folder_and_two_lines(tmp_path, capsys):
    from huiqi.site.tests.sample_program import site as sample

    bureau = User.objects.create_user("b", password="x", role="bureau")
    district = User.objects.create_user("d", password="x", role="enterprise")
    with override_settings(**NEW_PROGRAM):
        assert reverse("sample_program:index") == "/sample/"
        assert {"url": "/sample/", "name": "sample_program:index", "label": "样例项目"} in navigation.items_for(bureau)
        assert "sample_program:index" not in {i["name"] for i in navigation.items_for(district)}
        assert "sample-things" in [prefix for prefix, _viewset, _basename in build_router().registry]
        assert [s.order for s in discovery.demo_steps()] == sorted(s.order for s in discovery.demo_steps())
        assert any(s.build("small", 1, None) == "sample demo built (small, 1)" for s in discovery.demo_steps())
        assert {"name": "sample.things", "label": "待处理的样例", "count": 3, "url": "/sample/?state=open"} \
            in todos_for(bureau)
        assert "sample.things" not in {t["name"] for t in todos_for(district)}
        assert "sample" in {p.name for p in discovery.enterprise_programs()}
        src = tmp_path / "things.csv"
        src.write_text("x\n")
        call_command("import_data", "sample", str(src))
        assert sample.LOADED == [src] and "stored: 1 row stored" in capsys.readouterr().out
    assert "sample" not in discovery.importers()
    assert "sample.things" not in {t["name"] for t in todos_for(bureau)}
    assert "sample_program:index" not in {i["name"] for i in navigation.items_for(bureau)}


def test_two_apps_cannot_claim_one_import_kind(monkeypatch):
    class A:
        IMPORTERS = {"loans": 1}

    class B:
        IMPORTERS = {"loans": 2}

    monkeypatch.setattr(discovery, "declarations", lambda: (A, B))
    with pytest.raises(ValueError, match="'loans' is declared by two apps"):
        discovery.importers()
