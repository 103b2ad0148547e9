import datetime as dt

import pytest

from huiqi.core.errors import ValidationFailed
from huiqi.supplies import rules

D = dt.date


@pytest.mark.parametrize("day, expected", [
    (D(2020, 1, 24), "not_yet"), (D(2020, 1, 25), "active"), (D(2020, 2, 29), "active"),
    (D(2020, 3, 1), "suspended"), (D(2020, 3, 8), "suspended"), (D(2020, 3, 9), "active"),
    (D(2020, 4, 1), "suspended"), (D(2020, 4, 30), "suspended"), (D(2020, 5, 1), "removed"),
])
def test_status_on_a_day(day, expected):
    suspensions = [(D(2020, 3, 1), D(2020, 3, 8)), (D(2020, 4, 1), None)]
    assert rules.status_on(D(2020, 1, 25), D(2020, 4, 30), suspensions, day) == expected


def test_an_open_listing_stays_active():
    assert rules.status_on(D(2020, 1, 25), None, [], D(2099, 1, 1)) == "active"


def test_period_checks_name_the_field_and_the_rule():
    errors = rules.check_period("active_from", D(2020, 2, 1), "active_to", D(2020, 1, 31))
    assert [(e.field, e.code) for e in errors] == [("active_to", "supplies.period_reversed")]
    errors = rules.check_period("active_from", D(1999, 12, 31), "active_to", D(2101, 1, 1))
    assert [(e.field, e.code) for e in errors] == [("active_from", "supplies.date_out_of_range"),
                                                   ("active_to", "supplies.date_out_of_range")]
    assert rules.check_period("active_from", D(2020, 2, 1), "active_to", None) == []
    assert "1999-12-31" in errors[0].zh and "列入目录日期" in errors[0].zh and "2101-01-01" in errors[1].zh
    assert "between 2000 and 2100" in errors[0].en


@pytest.mark.parametrize("capacity, ok", [(0, True), (120000, True), (-1, False), (1.5, False), (True, False),
                                          ("10", False)])
def test_capacity_is_a_whole_number_not_below_zero(capacity, ok):
    errors = rules.check_capacity(capacity)
    assert (errors == []) is ok
    assert all(isinstance(e, ValidationFailed) and e.field == "capacity_per_day" for e in errors)


def test_a_suspension_lies_inside_the_listing_and_overlaps_no_other():
    listing = (D(2020, 1, 25), D(2020, 6, 30))
    assert rules.check_suspension(*listing, [(D(2020, 3, 1), D(2020, 3, 8))], D(2020, 3, 9)) == []
    codes = [e.code for e in rules.check_suspension(*listing, [(D(2020, 3, 1), D(2020, 3, 8))], D(2020, 3, 8))]
    assert codes == ["supplies.suspension_overlaps"]
    codes = [e.code for e in rules.check_suspension(*listing, [(D(2020, 3, 1), None)], D(2020, 5, 1))]
    assert codes == ["supplies.suspension_overlaps"]
    codes = [e.code for e in rules.check_suspension(*listing, [], D(2020, 7, 1))]
    assert codes == ["supplies.suspension_outside_listing"]
    codes = [e.code for e in rules.check_suspension(*listing, [], D(2020, 1, 24))]
    assert codes == ["supplies.suspension_outside_listing"]
