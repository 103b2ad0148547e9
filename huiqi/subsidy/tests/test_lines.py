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


def test_columns_must_match_the_fields():
    with pytest.raises(ValueError):
        Lines(LoanLine, [["B1"], ["L-1"]])  # two columns for seven fields
    with pytest.raises(ValueError):
        Lines(BeneficiaryLine, [[1]] * 10 + [[1, 2]])  # columns of different lengths
