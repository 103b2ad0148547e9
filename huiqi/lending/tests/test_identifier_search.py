"""A borrower's identifier is searched as the pages show it: a USCC (shown whole) by any part, a person's
resident ID (shown masked) only whole."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from huiqi.core.identifiers import generate_resident_id, generate_uscc
from huiqi.lending.models import Loan
from huiqi.lending.selectors import identifier_search, mask_borrower_id

pytestmark = pytest.mark.django_db


def test_a_part_finds_only_the_identifiers_shown_whole(city):
    rng = random.Random(7)
    uscc = generate_uscc(rng)
    identifiers = [uscc, "92" + uscc[2:], "12" + uscc[2:], "52" + uscc[2:], generate_resident_id(rng),
                   generate_resident_id(rng)[:17] + "X", "L" + uscc[1:], "123456789"]
    for i, value in enumerate(identifiers):
        Loan.objects.create(bank=city["bank_a"], loan_no=f"N-{i}", borrower_id=value, borrower_name="某",
                            borrower_kind="enterprise", purpose="operating", guarantee="credit", first_loan=True,
                            principal_fen=1, annual_rate=4, start_date=dt.date(2020, 3, 1),
                            maturity_date=dt.date(2021, 3, 1))

    def found(query) -> set[str]:
        return set(Loan.objects.filter(identifier_search("borrower_id", query)).values_list("borrower_id", flat=True))

    for value in identifiers:
        shown_whole = mask_borrower_id(value) == value
        assert found(value) == {value}
        assert found(value.lower()) == {value}
        for part in (value[2:-1], value[:6], value[-4:], value[4:-4]):
            assert (value in found(part)) == shown_whole, (value, part)
