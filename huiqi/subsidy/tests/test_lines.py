"""rules.Lines: result lines held as columns behave as the tuple of those lines."""

from fractions import Fraction

import pytest

from huiqi.subsidy.rules import BeneficiaryLine, Lines, LoanLine

ROWS = [
    LoanLine("B1", "L-1", "91440300MA5F00001X", True, None, Fraction(7, 3), 1),
    LoanLine("B1", "L-2", "91440300MA5F00001X", False, "outside_window", None, None),
    LoanLine("B2", "L-1", "440301199001011234", True, None, 300, 150),
]


def lines(rows=ROWS):
    return Lines(LoanLine, [list(c) for c in zip(*rows)] if rows else [[] for _ in LoanLine._fields])


def test_the_lines_read_as_their_named_tuples():
    x = lines()
    assert len(x) == 3
    assert list(x) == ROWS
    assert all(type(line) is LoanLine for line in x)
    assert x[0] == ROWS[0] and x[-1] == ROWS[-1] and x[1].reason == "outside_window"
    assert x[0:2] == tuple(ROWS[0:2])
    assert x[2].interest_counted_fen == 300
    assert x.column("loan_no") == ["L-1", "L-2", "L-1"]
    with pytest.raises(IndexError):
        x[3]
    with pytest.raises(IndexError):
        x[-4]


def test_equal_to_the_same_lines_in_any_sequence_and_hashed_alike():
    assert lines() == tuple(ROWS) and tuple(ROWS) == lines() and lines() == ROWS
    assert hash(lines()) == hash(tuple(ROWS))
    assert lines() != tuple(ROWS[:2])
    assert lines() != tuple(reversed(ROWS))
    changed = list(ROWS)
    changed[2] = changed[2]._replace(subsidy_fen=151)
    assert lines() != lines(changed)
    assert lines([]) == () and len(lines([])) == 0 and list(lines([])) == []
    assert lines() != "not lines"


def test_a_column_of_a_frame_is_read_as_a_list_and_handed_on_as_it_is():
    """The columnar rules give the loans' text and flags as polars columns: a list only once read as one."""
    import polars as pl

    given = [pl.Series(c) if i < 5 else list(c) for i, c in enumerate(zip(*ROWS))]
    x = Lines(LoanLine, given)
    assert x.given("loan_no") is given[1] and x.given("subsidy_fen") is given[6]
    assert x == tuple(ROWS) and x[1].reason == "outside_window" and x[2].eligible is True
    assert x.column("bank_code") == ["B1", "B1", "B2"] and type(x.column("bank_code")) is list
    assert x.columns == tuple(list(c) for c in zip(*ROWS))


def test_columns_must_match_the_fields():
    with pytest.raises(ValueError):
        Lines(LoanLine, [["B1"], ["L-1"]])  # two columns for seven fields
    with pytest.raises(ValueError):
        Lines(BeneficiaryLine, [[1]] * 10 + [[1, 2]])  # columns of different lengths


@pytest.mark.parametrize("enabled", [True, False], ids=["collector on", "collector off"])
def test_the_lines_are_built_with_the_collector_off_and_it_is_left_as_it_was(enabled):
    """``rules_columnar._no_gc``: off while the result is built; afterwards as the caller had it, with
    nothing left frozen, and what was built already in the oldest generation (no walk over it)."""
    import gc

    from huiqi.subsidy import rules_columnar

    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        with rules_columnar._no_gc():
            assert not gc.isenabled()
            built = [[str(i)] for i in range(1000)]
        assert gc.isenabled() == enabled and gc.get_freeze_count() == 0
        if enabled:
            young = {id(o) for generation in (0, 1) for o in gc.get_objects(generation=generation)}
            assert not any(id(b) in young for b in built)
    finally:
        (gc.enable if was else gc.disable)()
