"""``paginate_counted`` reads the same page, count and links as ``paginate``, in one statement."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from huiqi.core.pagination import paginate, paginate_counted

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("params", [{}, {"page": "2"}, {"page": "3", "q": "x"}, {"page": "99"}, {"page": "0"},
                                    {"page": "x"}, {"page": "2", "per_page": "20"}])
def test_the_same_page_as_paginate(params):
    Group.objects.bulk_create([Group(name=f"g{i:03d}") for i in range(57)])
    qs = Group.objects.order_by("-name")
    request = RequestFactory().get("/list/", params)
    page, query = paginate(request, qs)
    counted, counted_query = paginate_counted(request, qs)
    assert [g.name for g in counted.object_list] == [g.name for g in page.object_list]
    assert (counted.number, counted.paginator.count, counted.paginator.num_pages, counted.has_next(), query) == (
        page.number, page.paginator.count, page.paginator.num_pages, page.has_next(), counted_query)


def test_one_statement_for_a_page_with_rows():
    Group.objects.bulk_create([Group(name=f"g{i:03d}") for i in range(30)])
    with CaptureQueriesContext(connection) as q:
        page, _query = paginate_counted(RequestFactory().get("/list/", {"page": "2"}), Group.objects.order_by("name"))
        assert page.paginator.count == 30 and len(page.object_list) == 5 and page.paginator.num_pages == 2
    assert len(q.captured_queries) == 1
