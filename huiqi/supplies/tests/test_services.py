import datetime as dt
import random

import pytest

from huiqi.core.audit import AuditEvent
from huiqi.core.errors import Conflict, InvalidFields, PermissionDenied, ValidationFailed
from huiqi.core.identifiers import generate_uscc
from huiqi.supplies import selectors, services
from huiqi.supplies.models import Producer, ProducerProduct
from huiqi.supplies.services import ProductLine

D = dt.date


@pytest.fixture
def world(db):
    from huiqi.accounts.services import create_user
    from huiqi.registry import services as registry
    from huiqi.registry.models import District

    ents = [registry.register_enterprise(None, uscc=generate_uscc(random.Random(4400 + i)), name=f"深圳市物资{i}有限公司",
                                         district=("440305", "440306", "440305")[i], industry="C27", employees=80,
                                         revenue_wan="5000", figures_year=2019) for i in range(3)]
    bureau = create_user(None, username="supplies_bureau", password="x-Pass-2020!", role="bureau",
                         check_password=False)
    district = create_user(None, username="supplies_district", password="x-Pass-2020!", role="district",
                           check_password=False, district=District.objects.get(code="440305"))
    enterprise = create_user(None, username="supplies_ent", password="x-Pass-2020!", role="enterprise",
                             check_password=False, enterprises=[ents[1]])
    return ents, bureau, district, enterprise


def test_listing_keeps_products_and_audits(world):
    ents, bureau, _d, _e = world
    producer = services.list_producer(bureau, ents[0].uscc, D(2020, 1, 25), converted=True, contact_name="张三",
                                      contact_phone="0755-8888 0000",
                                      products=[ProductLine("MASK-SURG", 200_000),
                                                ProductLine("GOWN-MED", 5_000, D(2020, 2, 3))])
    lines = {p.product.code: (p.capacity_per_day, p.reported_from, p.reported_to)
             for p in ProducerProduct.objects.filter(producer=producer).select_related("product")}
    assert lines == {"MASK-SURG": (200_000, D(2020, 1, 25), None), "GOWN-MED": (5_000, D(2020, 2, 3), None)}
    assert producer.enterprise == ents[0] and producer.converted
    actions = list(AuditEvent.objects.filter(model__startswith="supplies.").values_list("action", flat=True))
    assert actions.count("supplies.list") == 1 and actions.count("supplies.product") == 2
    assert AuditEvent.objects.get(action="supplies.list").actor == bureau


def test_bad_listing_names_every_field_and_saves_nothing(world):
    ents, bureau, _d, _e = world
    with pytest.raises(InvalidFields) as caught:
        services.list_producer(bureau, ents[0].uscc, D(2020, 3, 1), active_to=D(2020, 2, 1), contact_phone="电话",
                               products=[ProductLine("NOPE", 10), ProductLine("MASK-N95", -5)])
    fields = [(e.field, e.code) for e in caught.value.errors]
    assert fields == [("active_to", "supplies.period_reversed"), ("contact_phone", "supplies.phone_invalid"),
                      ("product", "supplies.unknown_product"), ("capacity_per_day", "supplies.capacity_invalid")]
    assert not Producer.objects.exists() and not AuditEvent.objects.filter(model__startswith="supplies.").exists()
    with pytest.raises(InvalidFields) as caught:
        services.list_producer(bureau, "91440300MA5FAKE000", D(2020, 3, 1))
    assert caught.value.errors[0].field == "uscc"
    with pytest.raises(InvalidFields) as caught:
        services.list_producer(bureau, generate_uscc(random.Random(1)), D(2020, 3, 1))
    assert caught.value.errors[0].code == "supplies.not_in_registry"


def test_listed_once(world):
    ents, bureau, _d, _e = world
    services.list_producer(bureau, ents[0].uscc, D(2020, 1, 25))
    with pytest.raises(Conflict) as caught:
        services.list_producer(bureau, ents[0].uscc, D(2020, 2, 25))
    assert caught.value.code == "supplies.already_listed"
    assert Producer.objects.count() == 1


def test_only_the_bureau_keeps_the_directory(world):
    ents, _b, district, enterprise = world
    for user in (district, enterprise):
        with pytest.raises(PermissionDenied):
            services.list_producer(user, ents[0].uscc, D(2020, 1, 25))
    assert not Producer.objects.exists()


def test_active_on_a_day_through_suspension_and_removal(world):
    ents, bureau, _d, _e = world
    a = services.list_producer(bureau, ents[0].uscc, D(2020, 1, 25))
    b = services.list_producer(bureau, ents[1].uscc, D(2020, 2, 10))
    services.suspend(bureau, a, D(2020, 3, 1), "停产整改")
    with pytest.raises(InvalidFields) as caught:
        services.suspend(bureau, a, D(2020, 3, 5), "again")
    assert caught.value.errors[0].code == "supplies.suspension_overlaps"
    with pytest.raises(InvalidFields) as caught:
        services.resume(bureau, a, D(2020, 3, 1))
    assert caught.value.errors[0].field == "resume_on"
    services.resume(bureau, a, D(2020, 3, 9))
    with pytest.raises(Conflict):
        services.resume(bureau, a, D(2020, 3, 10))
    with pytest.raises(InvalidFields) as caught:  # a removal needs its reason
        services.update_producer(bureau, b, active_from=D(2020, 2, 10), active_to=D(2020, 4, 30), converted=False,
                                 contact_name="", contact_phone="")
    assert caught.value.errors[0].field == "reason"
    services.update_producer(bureau, b, active_from=D(2020, 2, 10), active_to=D(2020, 4, 30), converted=False,
                             contact_name="", contact_phone="", removal_reason="转回原产品")
    usccs = [e.uscc for e in ents]
    assert selectors.active_producers(usccs, D(2020, 2, 1)) == {ents[0].uscc}
    assert selectors.active_producers(usccs, D(2020, 2, 10)) == {ents[0].uscc, ents[1].uscc}
    assert selectors.active_producers(usccs, D(2020, 3, 8)) == {ents[1].uscc}
    assert selectors.active_producers(usccs, D(2020, 3, 9)) == {ents[0].uscc, ents[1].uscc}
    assert selectors.active_producers(usccs, D(2020, 5, 1)) == {ents[0].uscc}
    a.refresh_from_db()
    b.refresh_from_db()
    assert [selectors.status_of(a, D(2020, 3, 2)), selectors.status_of(b, D(2020, 5, 1)),
            selectors.status_of(b, D(2020, 2, 9))] == ["suspended", "removed", "not_yet"]
    qs = Producer.objects.all()
    for day in (D(2020, 2, 9), D(2020, 3, 2), D(2020, 5, 1)):  # the SQL status filter agrees with the rule
        for status in ("not_yet", "active", "suspended", "removed"):
            assert set(selectors.with_status_on(day, status, qs)) == {
                p for p in qs if selectors.status_of(p, day) == status}
    # A listing can't shrink away from its suspensions.
    with pytest.raises(ValidationFailed) as caught:
        services.update_producer(bureau, a, active_from=D(2020, 3, 5), active_to=None, converted=False,
                                 contact_name="", contact_phone="")
    assert caught.value.code == "supplies.suspension_outside_listing"


def test_each_reader_sees_its_own(world):
    ents, bureau, district, enterprise = world
    for e, day in zip(ents, (D(2020, 1, 25), D(2020, 1, 26), D(2020, 1, 27))):
        services.list_producer(bureau, e.uscc, day)
    assert selectors.producers_for(bureau).count() == 3
    assert set(selectors.producers_for(district).values_list("uscc", flat=True)) == {ents[0].uscc, ents[2].uscc}
    assert list(selectors.producers_for(enterprise).values_list("uscc", flat=True)) == [ents[1].uscc]
