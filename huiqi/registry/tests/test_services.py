"""Registry writes: validation of every field, size class computed and recomputed, audit of each change."""

import datetime as dt

import pytest

from huiqi.core import params
from huiqi.core.errors import ValidationFailed
from huiqi.core.models import AuditEvent
from huiqi.registry import services
from huiqi.registry.models import Enterprise

pytestmark = pytest.mark.django_db

GOOD = "91440300708461136T"


def register(**kw):
    data = dict(uscc=GOOD, name="深圳市测试电子有限公司", district="440305", industry="C39", employees=1500,
                revenue_wan="30000", figures_year=2019)
    data.update(kw)
    return services.register_enterprise(None, **data)


def test_register_computes_size_and_audits():
    e = register()
    assert e.size_class == "medium" and e.size_year == 2019 and e.size_missing == ""
    assert e.revenue_fen == 30000 * 1_000_000
    event = AuditEvent.objects.get(model="registry.Enterprise", object_id=str(e.pk), action="create")
    assert event.after["uscc"] == GOOD and event.before is None


def test_lower_case_and_padding_accepted():
    e = register(uscc="  91440300708461136t ")
    assert e.uscc == GOOD


@pytest.mark.parametrize("bad, code", [
    ("91440300708461136X", "uscc.check"),
    ("9144030070846113", "uscc.length"),
    ("91440300708461I36T", "uscc.charset"),
    ("9144030070846 136T", "uscc.charset"),
])
def test_bad_uscc_refused_and_nothing_stored(bad, code):
    with pytest.raises(ValidationFailed) as err:
        register(uscc=bad)
    assert err.value.code == code and err.value.field == "uscc"
    assert err.value.zh and err.value.en
    assert not Enterprise.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("field, value, code", [
    ("district", "440399", "registry.district_unknown"),
    ("industry", "Z99", "industry.unknown"),
    ("industry", "G59", "industry.needs_group"),
    ("employees", -3, "registry.employees_negative"),
    ("employees", "many", "registry.employees_invalid"),
    ("revenue_wan", "-1", "registry.revenue_negative"),
    ("kind", "individual_business", "registry.kind_mismatch"),
])
def test_bad_fields_refused(field, value, code):
    with pytest.raises(ValidationFailed) as err:
        register(**{field: value})
    assert err.value.code == code
    assert not Enterprise.objects.exists()


def test_duplicate_uscc_refused():
    register()
    with pytest.raises(ValidationFailed) as err:
        register(name="另一家")
    assert err.value.code == "registry.uscc_exists"
    assert Enterprise.objects.count() == 1


def test_unknown_class_names_the_missing_figure():
    e = register(employees=None, revenue_wan="3000")
    assert e.size_class == "unknown" and e.size_missing == "employees"


def test_figures_change_recomputes_size_and_audits_before_after():
    e = register()
    e = services.update_figures(None, e, employees=1500, revenue_wan="50000", figures_year=2020)
    assert e.size_class == "large" and e.size_year == 2020
    event = AuditEvent.objects.filter(object_id=str(e.pk), action="update").get()
    assert event.before["size_class"] == "medium" and event.after["size_class"] == "large"
    assert ("revenue_fen", 30000 * 1_000_000, 50000 * 1_000_000) in event.changes


def test_size_standard_is_a_dated_parameter():
    """A new standard from 2020 applies to 2020 figures, not to 2019 ones: rules read parameters."""
    standard = params.value(services.SIZE_STANDARD_KEY)
    changed = {**standard, "industry": {**standard["industry"], "medium": [["employees", 2000], ["revenue", "2000"]]}}
    params.set_value(None, services.SIZE_STANDARD_KEY, "registry", changed, dt.date(2020, 1, 1))
    old = register()
    assert old.size_class == "medium"
    new = services.update_figures(None, old, employees=1500, revenue_wan="30000", figures_year=2020)
    assert new.size_class == "small"


def test_owner_id_validated_stored_and_masked():
    e = register()
    owner = services.register_owner(None, resident_id="11010519491231002x", name="张三", owns=[e.uscc])
    assert owner.resident_id == "11010519491231002X"
    assert owner.masked_id == "1101**********002X"
    event = AuditEvent.objects.get(model="registry.BusinessOwner", action="create")
    assert "11010519491231002X" not in str(event.after)
    with pytest.raises(ValidationFailed) as err:
        services.register_owner(None, resident_id="110105194902300021", name="李四", owns=[e.uscc])
    assert err.value.code == "resident_id.birth_date"
