"""The pool's rules over whole columns (polars), for the city's 300,000 registered loans at once: each
loan's ratio under the table in force on its registration day, and the contingent liability. The pure
rules (``rules.loan_ratio``, ``rules.contingent_liability_fen``) are the reference; a property test holds
the two together."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from . import rules

# Ratios as whole ten-thousandths (0.8 → 8000): exact integers in the frame, never floats.
SCALE = 10_000


def _e4(ratio: Decimal) -> int:
    value = ratio * SCALE
    if value != value.to_integral_value():
        raise ValueError(f"a ratio finer than 1/{SCALE}: {ratio}")
    return int(value)


def ratio_e4(params: rules.Params) -> pl.Expr:
    """Each loan's ratio (in ten-thousandths) under ``params``: the highest applying row, capped by the
    origination date's cap. Reads ``start_date``, ``first_loan`` and ``guarantee``."""
    start = pl.col("start_date")
    best = pl.lit(0, dtype=pl.Int64)
    for row in params.rows():
        applies = pl.lit(True)
        if row.start is not None:
            applies = applies & (start >= row.start)
        if row.end is not None:
            applies = applies & (start <= row.end)
        if row.condition == "first_loan":
            applies = applies & pl.col("first_loan")
        elif row.condition == "credit":
            applies = applies & (pl.col("guarantee") == "credit")
        best = pl.max_horizontal(best, pl.when(applies).then(pl.lit(_e4(row.ratio))).otherwise(pl.lit(0)))
    return pl.min_horizontal(best, cap_e4(params)).cast(pl.Int64)


def cap_e4(params: rules.Params) -> pl.Expr:
    """Each loan's cap (in ten-thousandths) under ``params``: the window's for loans started in it, else the
    normal one. Reads ``start_date``."""
    start = pl.col("start_date")
    in_window = (start >= params.window_start) & (start <= params.window_end)
    return pl.when(in_window).then(pl.lit(_e4(params.cap_window))).otherwise(pl.lit(_e4(params.cap_normal))) \
        .cast(pl.Int64)


def priced(loans: pl.DataFrame, tables: dict[dt.date, rules.Params]) -> pl.DataFrame:
    """``loans`` with ``ratio_e4``: each priced by the table in force on its ``registered_date`` (``tables``
    maps each registration day to its parameters; days sharing a table are priced together)."""
    by_table: dict[int, list[dt.date]] = {}
    params_of: dict[int, rules.Params] = {}
    for day, p in tables.items():
        by_table.setdefault(id(p), []).append(day)
        params_of[id(p)] = p
    parts = []
    for key, days in by_table.items():
        part = loans.filter(pl.col("registered_date").is_in(days))
        parts.append(part.with_columns(ratio_e4(params_of[key]).alias("ratio_e4")))
    if not parts:
        return loans.with_columns(pl.lit(0, dtype=pl.Int64).alias("ratio_e4"))
    return pl.concat(parts)


def contingent_liability(loans: pl.DataFrame, by: list[str] | None = None) -> pl.DataFrame:
    """Σ outstanding × ratio (half-up to the fen once per group) of priced performing loans, by ``by``.
    Exact: outstanding fen × ratio ten-thousandths is an integer; the rounding divides once."""
    product = (pl.col("outstanding_fen").cast(pl.Int128) * pl.col("ratio_e4")).sum().alias("raw")
    grouped = loans.group_by(by, maintain_order=True).agg(product, pl.len().alias("loans"),
                                                          pl.col("outstanding_fen").sum().alias("outstanding_fen")) \
        if by else loans.select(product, pl.len().alias("loans"), pl.col("outstanding_fen").sum().alias("outstanding_fen"))
    # half-up: floor((2·raw + SCALE) / (2·SCALE)) for raw ≥ 0
    return grouped.with_columns(((pl.col("raw") * 2 + SCALE) // (2 * SCALE)).cast(pl.Int64).alias("liability_fen")) \
        .drop("raw")
