"""The borrowers' identifiers checked on whole columns, for the loans' columnar pass.

Most borrowers in a bank's file are plainly right: an enterprise or individual business with its
USCC as the registry writes it, or a business owner with a plain resident ID and owned enterprise.
These expressions tell those rows apart on whole columns (the check characters computed on byte
matrices with numpy), so that only the others (any unusual spelling, any error) go through
``LoanImporter.row_checks`` one by one. They never refuse a row: false leaves it to the row checks.
The scalar rules they follow are ``core.identifiers``'; tests hold both to ``row_checks``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from huiqi.core.identifiers import (
    EARLIEST_BIRTH_DATE, MAINLAND_PROVINCE_CODES, ORG_CODE_ALPHABET, ORG_CODE_WEIGHTS, RESIDENT_ID_CHECK_MAP,
    RESIDENT_ID_PROVINCE_CODES, RESIDENT_ID_WEIGHTS, USCC_ALPHABET, USCC_LENGTH, USCC_WEIGHTS,
)

from .pgbinary import utf8_bytes

_USCC_SYMBOL = f"[{USCC_ALPHABET}]"


def plain_valid_uscc() -> pl.Expr:
    """True for the (borrower_kind, borrower_id, owner_of) rows that ``LoanImporter.row_checks`` passes
    unchanged because they are plainly right: an enterprise (91…) or individual business (92…) with no
    owner_of, whose identifier is 18 symbols of the USCC alphabet (already trimmed and upper case, so
    ``validate_uscc`` returns it as it is) with a 6-digit division and both check characters right
    (GB 11714 at position 17, GB 32100 at 18). False leaves a row to ``row_checks``, never refuses it."""
    code = pl.col("borrower_id")
    shape = code.str.contains(rf"^9[12][0-9]{{6}}{_USCC_SYMBOL}{{10}}$")
    prefix = pl.when(pl.col("borrower_kind") == "enterprise").then(pl.lit("91")).when(
        pl.col("borrower_kind") == "individual_business").then(pl.lit("92")).otherwise(pl.lit(None, pl.String))
    return (shape & (code.str.slice(0, 2) == prefix) & pl.col("owner_of").is_null()
            & _uscc_check_characters_right(code)).fill_null(False)


def plain_valid_owner(today: dt.date) -> pl.Expr:
    """The same for business owners: ``borrower_id`` a plainly valid 18-character resident ID (17 digits
    and a digit or upper-case X, a province code, a real birth date from 1900 to ``today``, the GB 11643
    check character) and ``owner_of`` a plainly valid USCC (18 USCC symbols, a 6-digit division, both
    check characters), both stored as read. False leaves a row to ``row_checks``."""
    rid = pl.col("borrower_id")
    shape = rid.str.contains(r"^[0-9]{17}[0-9X]$")
    mainland = sorted(MAINLAND_PROVINCE_CODES)
    province = pl.when(rid.str.slice(0, 1) == "9").then(rid.str.slice(1, 2).is_in(mainland)).otherwise(
        rid.str.slice(0, 2).is_in(sorted(RESIDENT_ID_PROVINCE_CODES)))
    year, month, day = (rid.str.slice(a, b).cast(pl.Int64, strict=False) for a, b in ((6, 4), (10, 2), (12, 2)))
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = (pl.when(month == 2).then(pl.when(leap).then(29).otherwise(28))
                  .when(month.is_in([4, 6, 9, 11])).then(30).otherwise(31))
    born = year * 10_000 + month * 100 + day
    real_date = (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days)
    in_range = (born >= _yyyymmdd(EARLIEST_BIRTH_DATE)) & (born <= _yyyymmdd(today))
    check_right = rid.map_batches(_resident_check_holds, return_dtype=pl.Boolean, is_elementwise=True)
    owner = pl.col("owner_of")
    owner_shape = owner.str.contains(rf"^{_USCC_SYMBOL}{{2}}[0-9]{{6}}{_USCC_SYMBOL}{{10}}$")
    return ((pl.col("borrower_kind") == "business_owner") & shape & province & real_date & in_range
            & check_right & owner_shape & _uscc_check_characters_right(owner)).fill_null(False)


def _yyyymmdd(day: dt.date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def _uscc_check_characters_right(code: pl.Expr) -> pl.Expr:
    """Both check characters of an 18-symbol USCC right: GB 11714 at position 17, GB 32100 at 18 (false
    for anything not 18 bytes long; the callers require the USCC's shape besides)."""
    return code.map_batches(_uscc_checks_hold, return_dtype=pl.Boolean, is_elementwise=True)


def _fixed_bytes(texts: pl.Series, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(n × ``width`` byte matrix of the texts that are ``width`` bytes long (zeros for the others),
    which rows those are)."""
    fits = (texts.str.len_bytes() == width).fill_null(False)
    padded = pl.select(pl.when(fits).then(texts).otherwise(pl.lit("0" * width))).to_series()
    matrix = utf8_bytes(padded).reshape(-1, width)
    return matrix, fits.to_numpy()


def _table(alphabet: str) -> np.ndarray:
    values = np.zeros(256, dtype=np.int64)
    for i, ch in enumerate(alphabet):
        values[ord(ch)] = i
    return values


_ORG_VALUES, _USCC_VALUES = _table(ORG_CODE_ALPHABET), _table(USCC_ALPHABET)
_USCC_CHECK = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)


_RESIDENT_CHECK = np.frombuffer("".join(RESIDENT_ID_CHECK_MAP).encode(), dtype=np.uint8)


def _resident_check_holds(ids: pl.Series) -> pl.Series:
    """The GB 11643 check character (the 18th) of each 18-byte resident ID right, its first 17 taken as
    digits (the callers require the shape: 17 digits and a digit or X)."""
    m, fits = _fixed_bytes(ids, len(RESIDENT_ID_WEIGHTS) + 1)
    digits = m[:, :len(RESIDENT_ID_WEIGHTS)].astype(np.int64) - ord("0")
    total = digits @ np.asarray(RESIDENT_ID_WEIGHTS, dtype=np.int64)
    return pl.Series(ids.name, fits & (m[:, -1] == _RESIDENT_CHECK[total % 11]), dtype=pl.Boolean)


def _uscc_checks_hold(codes: pl.Series) -> pl.Series:
    """``_uscc_check_characters_right`` on a column: the weighted sums taken on a byte matrix by numpy."""
    m, fits = _fixed_bytes(codes, USCC_LENGTH)
    org_total = _ORG_VALUES[m[:, 8:8 + len(ORG_CODE_WEIGHTS)]] @ np.asarray(ORG_CODE_WEIGHTS, dtype=np.int64)
    org_v = 11 - org_total % 11
    org_check = np.where(org_v == 10, ord("X"), np.where(org_v == 11, ord("0"), ord("0") + org_v))
    total = _USCC_VALUES[m[:, :len(USCC_WEIGHTS)]] @ np.asarray(USCC_WEIGHTS, dtype=np.int64)
    v = 31 - total % 31
    check = _USCC_CHECK[np.where(v == 31, 0, v)]
    return pl.Series(codes.name, fits & (m[:, 16] == org_check) & (m[:, 17] == check), dtype=pl.Boolean)
