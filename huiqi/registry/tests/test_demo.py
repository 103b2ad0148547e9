"""The demo city: deterministic from its seed, valid identifiers, every district, industry section,
size-standard group and size class, the pool's 42/35 banks, a demo log-in for every role, and a second
`huiqi demo` that changes nothing."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import pytest
from django.conf import settings
from django.core.management import call_command

from huiqi.core.identifiers import uscc_entity_kind, validate_resident_id, validate_uscc
from huiqi.registry import demo
from huiqi.registry.reference import DISTRICTS, GROUPS
from huiqi.registry.rules import GROUP_LABELS, SIZE_CLASSES


@pytest.fixture(scope="module")
def small():
    return demo.generate("small", 2020)


def test_same_seed_same_city(small):
    again = demo.generate("small", 2020)
    assert [e.uscc for e in again.enterprises] == [e.uscc for e in small.enterprises]
    assert again.enterprises == small.enterprises
    assert again.owners == small.owners
    assert again.banks == small.banks
    other = demo.generate("small", 2021)
    assert [e.uscc for e in other.enterprises] != [e.uscc for e in small.enterprises]


def test_generated_identifiers_and_names_are_valid_and_unique(small):
    assert len(small.enterprises) == demo.SCALES["small"]
    usccs = [e.uscc for e in small.enterprises]
    assert len(set(usccs)) == len(usccs)
    for e in small.enterprises:
        assert validate_uscc(e.uscc) == e.uscc
        assert uscc_entity_kind(e.uscc) == e.kind
        assert e.uscc[2:6] == "4403"
    names = [e.name for e in small.enterprises]
    assert len(set(names)) == len(names)
    ids = [o.resident_id for o in small.owners]
    assert len(set(ids)) == len(ids)
    for o in small.owners:
        assert validate_resident_id(o.resident_id) == o.resident_id
        assert o.owns and len(set(o.owns)) == len(o.owns)
    kinds = Counter(e.kind for e in small.enterprises)
    assert 0.08 < kinds["individual_business"] / len(small.enterprises) < 0.16
    for e in small.enterprises:
        if e.kind == "enterprise":
            assert e.name.startswith("深圳") and e.name.endswith("有限公司")
        else:
            assert e.name.startswith(demo.DISTRICT_NAMES[e.district])


def test_generated_city_covers_districts_industries_and_sizes(small):
    assert {e.district for e in small.enterprises} == {code for code, _, _ in DISTRICTS}
    sizes = Counter(e.size_class for e in small.enterprises)
    assert set(sizes) == set(SIZE_CLASSES)
    n = len(small.enterprises)
    assert sizes["micro"] + sizes["small"] > 0.75 * n
    assert 0.005 < sizes["large"] / n < 0.03
    assert 0.02 < sizes["unknown"] / n < 0.05
    for e in small.enterprises:
        assert e.industry not in GROUPS and len(e.industry) > 1  # never a bare G59/K70 or a section
        assert (e.size_class == "unknown") == bool(e.size_missing)
    sections = {e.industry[0] for e in small.enterprises}
    assert set("ABCDEFGHIJKLMNOPQR") <= sections
    keys = sum(e.is_key_enterprise for e in small.enterprises)
    assert 0.003 * n < keys < 0.03 * n


def test_small_demo_builds(db):
    from huiqi.accounts.models import Role, User
    from huiqi.core.models import AuditEvent
    from huiqi.registry import services
    from huiqi.registry.models import Bank, BusinessOwner, Enterprise, Industry

    counts = demo.build_demo("small", 2020)
    assert counts["enterprises"] == Enterprise.objects.count() == demo.SCALES["small"]

    # The stored city is the generated one.
    expected = demo.generate("small", 2020, industries=list(Industry.objects.all()),
                             standard=services.size_standard(2019))
    stored = sorted(Enterprise.objects.values_list("uscc", flat=True))
    assert stored == sorted(e.uscc for e in expected.enterprises)

    assert set(Enterprise.objects.values_list("district_id", flat=True)) == {c for c, _, _ in DISTRICTS}
    assert set(Enterprise.objects.values_list("size_class", flat=True)) == set(SIZE_CLASSES)
    groups = set(Enterprise.objects.values_list("industry__size_group", flat=True))
    assert groups == set(GROUP_LABELS)
    assert not Enterprise.objects.filter(industry__level="section").exists()
    assert not Enterprise.objects.filter(industry_id__in=list(GROUPS)).exists()
    assert set(Enterprise.objects.values_list("figures_year", "size_year").distinct()) == {(2019, 2019)}
    for e in Enterprise.objects.select_related("industry"):
        result = services.classify(e.industry, e.employees, e.revenue_fen, e.assets_fen, 2019)
        assert (result.size_class, ",".join(result.missing)) == (e.size_class, e.size_missing)

    assert BusinessOwner.objects.count() == counts["owners"] > 0
    for o in BusinessOwner.objects.prefetch_related("enterprises")[:200]:
        validate_resident_id(o.resident_id)
        assert o.enterprises.exists()
    assert Enterprise.objects.filter(kind="individual_business", owners__isnull=False).distinct().count() > 0

    assert Bank.objects.count() == 42
    assert Bank.objects.filter(onboarded_date__isnull=False).count() == 35
    assert Bank.objects.filter(signed_date__year=2019).count() == 42
    for b in Bank.objects.filter(onboarded_date__isnull=False):
        assert b.signed_date <= b.onboarded_date <= dt.date(2020, 4, 30)
    assert len(set(Bank.objects.values_list("name", flat=True))) == 42

    users = {u.username: u for u in User.objects.all()}
    assert set(demo.DEMO_USERNAMES) <= set(users)
    assert {users[u].role for u in demo.DEMO_USERNAMES} == set(Role.values)
    for name in demo.DEMO_USERNAMES:
        u = users[name]
        assert u.is_demo and u.display_name
        assert u.check_password(settings.HUIQI_DEMO_PASSWORD)
    ent = list(users["enterprise"].enterprises.all())
    assert len(ent) == 2 and {e.district_id for e in ent} == {"440305"}
    assert "medium" in {e.size_class for e in ent}
    ent2 = list(users["enterprise2"].enterprises.all())
    assert len(ent2) == 1 and ent2[0].district_id == "440304" and ent2[0] not in ent
    assert users["district_ns"].district_id == "440305"
    assert users["district_ft"].district_id == "440304"
    assert users["handler"].agency.code == "SME-SZ"
    assert users["bank"].bank.name == "中国工商银行深圳市分行"
    assert users["bank2"].bank_id not in (None, users["bank"].bank_id)
    assert users["institution"].institution.code == "SZHTI"

    # One batch-level audit record for the bulk rows (plus each user's own creation record).
    batch = AuditEvent.objects.filter(action="demo")
    assert batch.count() == 1
    assert batch.get().after["enterprises"] == demo.SCALES["small"]
    assert AuditEvent.objects.filter(model="registry.Enterprise").count() == 1


def test_demo_command_twice_changes_nothing(db):
    from huiqi.accounts.models import User
    from huiqi.core.models import AuditEvent
    from huiqi.registry.models import Bank, BusinessOwner, Enterprise

    def state():
        return (Enterprise.objects.count(), BusinessOwner.objects.count(), Bank.objects.count(),
                User.objects.count(), AuditEvent.objects.count())

    out = io.StringIO()
    call_command("demo", stdout=out, stderr=io.StringIO())
    assert "huiqi-demo-2020" in out.getvalue() or settings.HUIQI_DEMO_PASSWORD in out.getvalue()
    first = state()
    assert first[0] == demo.SCALES["small"]

    out = io.StringIO()
    call_command("demo", stdout=out, stderr=io.StringIO())
    assert "nothing was changed" in out.getvalue()
    assert state() == first

    with pytest.raises(demo.DemoDataExists):
        demo.build_demo("small", 7)
    assert state() == first
