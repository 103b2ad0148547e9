"""Shared fixtures: one user per role, each with its own organisation, and a small registry."""

from __future__ import annotations

import contextlib
import os

import pytest

os.environ.setdefault("HUIQI_DATA_DIR", os.path.join(os.path.dirname(__file__), "var", "test"))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """On PostgreSQL the test database lets its reset TRUNCATE the audit records, which a real
    database refuses (core migration 0005); sessions opened from now on carry the setting."""
    from django.db import connections

    with django_db_blocker.unblock():
        connection = connections["default"]
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute(f'ALTER DATABASE "{connection.settings_dict["NAME"]}" '
                            "SET huiqi.allow_audit_truncate = on")
            for alias in connections:
                connections[alias].close()


@pytest.fixture(autouse=True)
def _one_connection(settings):
    """Tests see one database alias; job progress on a second connection is for real deployments."""
    settings.HUIQI_PROGRESS_CONNECTION = False


def enterprise_maker():
    """``make(name, …)``: register an enterprise with a USCC drawn from its own counter."""
    from huiqi.registry import services

    counter = {"n": 0}

    def make(name="深圳市测试科技有限公司", district="440305", industry="C39", employees=50, revenue_wan="3000",
             assets_wan=None, kind="enterprise", uscc=None, **kw):
        import random

        from huiqi.core.identifiers import generate_uscc

        counter["n"] += 1
        code = uscc or generate_uscc(random.Random(counter["n"] * 7919 + hash(name) % 1000), kind=kind)
        return services.register_enterprise(
            None, uscc=code, name=name, kind=kind, district=district, industry=industry, employees=employees,
            revenue_wan=revenue_wan, assets_wan=assets_wan, figures_year=2019, **kw,
        )

    return make


@pytest.fixture
def make_enterprise(db):
    return enterprise_maker()


def build_city(make_enterprise):
    """Enterprises in two districts, two banks, an institution: the foreign rows each role must not see."""
    from huiqi.registry.models import Bank, FundInstitution

    ns1 = make_enterprise("深圳市南山云创电子科技有限公司", district="440305")
    ns2 = make_enterprise("深圳市前海汇通商贸有限公司", district="440305", industry="F51", employees=30,
                          revenue_wan="8000")
    ft1 = make_enterprise("深圳市福田华信软件技术有限公司", district="440304", industry="I65", employees=120,
                          revenue_wan="2000")
    ba1 = make_enterprise("宝安区张记餐饮店", district="440306", industry="H62", employees=5, revenue_wan="60",
                          kind="individual_business")
    import datetime as dt

    bank_a = Bank.objects.create(code="ICBC-SZ", name="中国工商银行深圳市分行", signed_date=dt.date(2019, 5, 1),
                                 onboarded_date=dt.date(2019, 6, 1))
    bank_b = Bank.objects.create(code="CMB-SZ", name="招商银行深圳分行", signed_date=dt.date(2019, 5, 2))
    return {"ns1": ns1, "ns2": ns2, "ft1": ft1, "ba1": ba1, "bank_a": bank_a, "bank_b": bank_b,
            "institution": FundInstitution.objects.get(code="SZHTI")}


@pytest.fixture
def city(db, make_enterprise):
    return build_city(make_enterprise)


PASSWORD = "Str0ng-test-pass-2020"


@pytest.fixture(scope="session")
def password_hash():
    """The real (Argon2) hash of PASSWORD, computed once: hashing is deliberately slow."""
    from django.contrib.auth.hashers import make_password

    return make_password(PASSWORD)


def fast_known_password(monkeypatch, password_hash):
    """Hashing PASSWORD gives the precomputed hash (every other password is hashed for real)."""
    import django.contrib.auth.base_user as base_user

    real = base_user.make_password
    monkeypatch.setattr(base_user, "make_password",
                        lambda raw, *a, **k: password_hash if raw == PASSWORD else real(raw, *a, **k))


def build_users(city):
    """One user per role (plus a second enterprise user and a second district officer)."""
    from huiqi.accounts.services import create_user
    from huiqi.registry.models import Agency, District

    def mk(username, role, **kw):
        return create_user(None, username=username, password=PASSWORD, role=role, check_password=False, **kw)

    return {
        "enterprise": mk("ent", "enterprise", enterprises=[city["ns1"]]),
        "enterprise2": mk("ent2", "enterprise", enterprises=[city["ft1"]]),
        "district": mk("dist_ns", "district", district=District.objects.get(code="440305")),
        "district2": mk("dist_ft", "district", district=District.objects.get(code="440304")),
        "department": mk("handler", "department", agency=Agency.objects.get(code="SME-SZ")),
        "bureau": mk("bureau", "bureau"),
        "bank": mk("bank", "bank", bank=city["bank_a"]),
        "institution": mk("inst", "institution", institution=city["institution"]),
        "auditor": mk("auditor", "auditor"),
        "admin": mk("admin", "admin"),
    }


@pytest.fixture
def users(db, city, password_hash, monkeypatch):
    fast_known_password(monkeypatch, password_hash)
    return build_users(city)


@pytest.fixture
def client_for(users):
    """A logged-in Django test client for a role name of the ``users`` fixture."""
    from django.test import Client

    def make(role):
        c = Client()
        c.force_login(users[role])
        return c

    return make


def _transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")
                   or (marker.args and marker.args[0])):
        return True
    return bool({"transactional_db", "live_server", "django_db_reset_sequences"} & set(item.fixturenames))


def _uses_db(item) -> bool:
    return item.get_closest_marker("django_db") is not None or _transactional(item) or "db" in item.fixturenames


@contextlib.contextmanager
def rows_kept_for_scope(request, django_db_blocker):
    """For a module (or class, or session) fixture that yields inside it: the rows it makes there stay
    for every test of its scope, and are rolled back after the last one.

    Django's ``TestCase.setUpTestData`` does the same: the rows go into an outer transaction, and
    each test's ``db`` fixture opens a savepoint inside it and rolls back to it, so a test sees
    exactly the rows made here, whatever the test before it wrote. The fixture that hands them to a
    test must hand out copies (``copy.deepcopy``), since a test may change the instances in memory.
    A test that commits (``transaction=True``) would write through that transaction: none may share it;
    and every test of the scope that uses the database must use these rows.
    """
    from django.db import transaction

    scope = [i for i in request.session.items if request.node in i.listchain()]
    sharing = [i.nodeid for i in scope if _transactional(i)]
    assert not sharing, f"transactional tests cannot share the rows of {request.fixturename}: {sharing}"
    # They would see the rows too, once the first test that uses them has run.
    beside = [i.nodeid for i in scope if _uses_db(i) and request.fixturename not in i.fixturenames]
    assert not beside, f"tests beside {request.fixturename} that do not use it: {beside}"
    outer = transaction.atomic()
    # As TestCase marks its class-wide block: a durable block of the code under test may open inside it.
    outer._from_testcase = True
    with django_db_blocker.unblock():
        outer.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
