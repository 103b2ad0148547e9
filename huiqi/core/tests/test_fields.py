"""``CodeField``: a code compared and sorted byte by byte, on either database."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Exists, OuterRef

from huiqi.lending.models import Loan
from huiqi.lending.tests.test_imports import LOAN_ZH, csv, loan_row, up

pytestmark = pytest.mark.django_db


def test_codes_sort_by_their_bytes_and_equal_other_columns(users, city):
    from huiqi.registry.models import Enterprise

    numbers = ["b-1", "B-2", "a-10", "a-9", "A-1", "_x", "贷-1", "Z"]
    rows = [loan_row(n) for n in numbers[:-1]] + [loan_row("Z", id=city["ns2"].uscc)]
    assert up(users["bank"], "loans", csv(LOAN_ZH, rows)).status == "stored"
    stored = list(Loan.objects.filter(loan_no__in=numbers).order_by("loan_no")
                  .values_list("loan_no", flat=True))
    assert stored == sorted(numbers, key=lambda n: n.encode())  # not as words: "A-1" "B-2" "Z" "_x" "a-10"…
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT column_name, collation_name FROM information_schema.columns "
                        "WHERE table_name = 'lending_loan' AND column_name IN ('loan_no', 'borrower_id')")
            assert dict(cur.fetchall()) == {"loan_no": "C", "borrower_id": "C"}
    # Compared with a column of the database's own collation (the registry's USCC): equal as before.
    borrower = city["ns2"].uscc
    lent = Enterprise.objects.filter(Exists(Loan.objects.filter(borrower_id=OuterRef("uscc"), loan_no="Z")))
    assert list(lent.values_list("uscc", flat=True)) == [borrower]
