"""A small directory over the root conftest's city: ns1 (南山) active and converted, ns2 (南山) suspended from
2020-03-01, ft1 (福田) removed after 2020-02-29."""

from __future__ import annotations

import datetime as dt

import pytest

from huiqi.supplies import services
from huiqi.supplies.services import ProductLine

D = dt.date


@pytest.fixture
def directory(city, users):
    bureau = users["bureau"]
    ns1 = services.list_producer(bureau, city["ns1"].uscc, D(2020, 1, 25), converted=True, contact_name="张三",
                                 contact_phone="0755-8888 0000", products=[ProductLine("MASK-SURG", 200_000)])
    ns2 = services.list_producer(bureau, city["ns2"].uscc, D(2020, 2, 1), products=[ProductLine("GOWN-MED", 5_000)])
    services.suspend(bureau, ns2, D(2020, 3, 1), "停产整改")
    ft1 = services.list_producer_until(bureau, city["ft1"].uscc, D(2020, 1, 25), active_to=D(2020, 2, 29),
                                       removal_reason="转回原业务", products=[ProductLine("DISINF", 12)])
    return {"ns1": ns1, "ns2": ns2, "ft1": ft1}
