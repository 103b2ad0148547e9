"""The pool's rules over whole columns (polars), for the city's 300,000 registered loans at once: the
registration's screening and pricing (each loan under the table in force on its registration day), and the
contingent liability. The pure rules (``rules.screen``, ``rules.loan_ratio``,
``rules.contingent_liability_fen``) are the reference; property tests hold the two together."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from huiqi.lending.rules_columnar import borrower_reason

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
    best = pl.lit(0, dtype=pl.Int64)
    for row in params.rows():
        best = pl.max_horizontal(best, pl.when(_applies(row)).then(pl.lit(_e4(row.ratio))).otherwise(pl.lit(0)))
    return pl.min_horizontal(best, cap_e4(params)).cast(pl.Int64)


def priced(loans: pl.DataFrame, tables: dict[dt.date, rules.Params]) -> pl.DataFrame:
    """``loans`` with ``ratio_e4``: each priced by the table in force on its ``registered_date`` (``tables``
    maps each registration day to its parameters; days sharing a table are priced together)."""
    parts = []
    for params, days in _by_table(tables):
        part = loans.filter(pl.col("registered_date").is_in(days))
        parts.append(part.with_columns(ratio_e4(params).alias("ratio_e4")))
    if not parts:
        return loans.with_columns(pl.lit(0, dtype=pl.Int64).alias("ratio_e4"))
    return pl.concat(parts)


def contingent_liability(loans: pl.DataFrame, by: list[str] | None = None) -> pl.DataFrame:
    """Σ outstanding × ratio (half-up to the fen once per group) of priced performing loans, by ``by``.
    Exact: outstanding fen × ratio ten-thousandths is an integer; the rounding divides once."""
    return liability_of_sums(loans.select(
        *(by or []), pl.lit(1, dtype=pl.Int64).alias("loans"), "outstanding_fen",
        (pl.col("outstanding_fen").cast(pl.Int128) * pl.col("ratio_e4")).alias("raw")), by)


def liability_of_sums(groups: pl.DataFrame, by: list[str] | None = None) -> pl.DataFrame:
    """``contingent_liability`` from sums already taken (by the database) over groups of loans: each row's
    ``loans``, ``outstanding_fen`` and ``raw`` (Σ outstanding fen × ratio ten-thousandths), summed by ``by``
    and rounded half-up to the fen once per group."""
    sums = (pl.col("raw").cast(pl.Int128).sum().alias("raw"), pl.col("loans").sum().alias("loans"),
            pl.col("outstanding_fen").sum().alias("outstanding_fen"))
    grouped = groups.group_by(by, maintain_order=True).agg(*sums) if by else groups.select(*sums)
    # half-up: floor((2·raw + SCALE) / (2·SCALE)) for raw ≥ 0
    return grouped.with_columns(((pl.col("raw") * 2 + SCALE) // (2 * SCALE)).cast(pl.Int64).alias("liability_fen")) \
        .drop("raw")


# --------------------------------------------------------------------------------------------------
# Registration (入库): ``rules.screen`` and ``rules.loan_ratio`` over every loan at once

# The columns ``registration`` reads: the loan's, the bank's state on the registration day, and the registry's
# entries of the borrower (``b_``) and of the enterprise an owner owns (``o_``), null where the registry has none.
REGISTRATION_INPUT = {
    "loan_id": pl.Int64, "borrower_kind": pl.String, "guarantee": pl.String, "first_loan": pl.Boolean,
    "principal_fen": pl.Int64, "start_date": pl.Date, "registered_date": pl.Date, "onboarded": pl.Boolean,
    "b_kind": pl.String, "b_size": pl.String, "b_industry": pl.String,
    "o_kind": pl.String, "o_size": pl.String, "o_industry": pl.String,
}


def _individual() -> pl.Expr:
    """``lending.rules.is_individual``: an owner, or an individual business (as the registry, where it
    knows, says)."""
    return ((pl.col("borrower_kind") == "business_owner")
            | pl.when(pl.col("b_kind").is_null()).then(pl.col("borrower_kind") == "individual_business")
            .otherwise(pl.col("b_kind") == "individual_business"))


def _industry_excluded(params: rules.Params) -> pl.Expr:
    """The judging entry's industry (the owned enterprise's for an owner) starts with an excluded code."""
    if not params.excluded_industries:
        return pl.lit(False)
    code = (pl.when(pl.col("borrower_kind") == "business_owner").then(pl.col("o_industry"))
            .otherwise(pl.col("b_industry")).fill_null("").str.to_uppercase())
    return (code != "") & pl.any_horizontal([code.str.starts_with(prefix) for prefix in params.excluded_industries])


def screen_reason(params: rules.Params) -> pl.Expr:
    """``rules.screen`` over columns: the first failing reason at registration, null when covered."""
    return (
        pl.when(~pl.col("onboarded")).then(pl.lit("bank_not_onboarded"))
        .when(pl.col("principal_fen") > params.max_principal_fen).then(pl.lit("principal_above_limit"))
        .when(_individual() & (pl.col("start_date") < params.widened_from))
        .then(pl.lit("borrower_kind_not_covered_yet"))
        .otherwise(pl.coalesce(borrower_reason(),
                               pl.when(_industry_excluded(params)).then(pl.lit("industry_excluded"))))
    )


def _applies(row: rules.RatioRow) -> pl.Expr:
    start = pl.col("start_date")
    applies = pl.lit(True)
    if row.start is not None:
        applies = applies & (start >= row.start)
    if row.end is not None:
        applies = applies & (start <= row.end)
    if row.condition == "first_loan":
        applies = applies & pl.col("first_loan")
    elif row.condition == "credit":
        applies = applies & (pl.col("guarantee") == "credit")
    return applies


def winning_row(params: rules.Params) -> pl.Expr:
    """``rules.loan_ratio``'s row: the first row of the table (in order) with the highest applying ratio."""
    rows = params.rows()
    best = pl.max_horizontal([pl.when(_applies(r)).then(pl.lit(_e4(r.ratio))).otherwise(pl.lit(-1)) for r in rows])
    return pl.coalesce([pl.when(_applies(r) & (best == _e4(r.ratio))).then(pl.lit(r.name)) for r in rows]
                       + [pl.lit("")])


def cap_e4(params: rules.Params) -> pl.Expr:
    in_window = (pl.col("start_date") >= params.window_start) & (pl.col("start_date") <= params.window_end)
    return pl.when(in_window).then(pl.lit(_e4(params.cap_window))).otherwise(pl.lit(_e4(params.cap_normal))) \
        .cast(pl.Int64)


def registration(loans: pl.DataFrame, tables: dict[dt.date, rules.Params]) -> pl.DataFrame:
    """Each loan of ``loans`` (``REGISTRATION_INPUT``) screened and priced by the table in force on its
    ``registered_date`` (``tables``): loan_id, registered_date, reason (null when covered), ratio_e4,
    cap_e4 and row, as ``rules.screen`` and ``rules.loan_ratio`` give them loan by loan."""
    out = pl.DataFrame(schema={"loan_id": pl.Int64, "registered_date": pl.Date, "reason": pl.String,
                               "ratio_e4": pl.Int64, "cap_e4": pl.Int64, "row": pl.String})
    parts = [out]
    for params, days in _by_table(tables):
        part = loans.filter(pl.col("registered_date").is_in(days))
        if part.height:
            parts.append(part.select(
                "loan_id", "registered_date", screen_reason(params).alias("reason"),
                ratio_e4(params).alias("ratio_e4"), cap_e4(params).alias("cap_e4"),
                winning_row(params).alias("row")))
    return pl.concat(parts)


def _by_table(tables: dict[dt.date, rules.Params]) -> list[tuple[rules.Params, list[dt.date]]]:
    """The registration days grouped by the table in force on them (days sharing one are priced together)."""
    by_table: dict[int, list[dt.date]] = {}
    params_of: dict[int, rules.Params] = {}
    for day, p in tables.items():
        by_table.setdefault(id(p), []).append(day)
        params_of[id(p)] = p
    return [(params_of[key], days) for key, days in by_table.items()]


def e4_text(column: str) -> pl.Expr:
    """A ratio in ten-thousandths as the decimal text the database stores (8000 → '0.8000')."""
    col = pl.col(column)
    return pl.format("{}.{}", col // SCALE, (col % SCALE).cast(pl.String).str.zfill(4))


# --------------------------------------------------------------------------------------------------
# Claims: ``rules.simulate`` over every NPL at once

# What ``simulate`` reads beside ``REGISTRATION_INPUT``: the NPL (in approval order) and the ratio fixed at
# registration, in ten-thousandths (null for a loan the pool has not registered yet).
CLAIM_INPUT = {**REGISTRATION_INPUT, "bank_code": pl.String, "loan_no": pl.String, "npl_date": pl.Date,
               "loss_fen": pl.Int64, "fixed_e4": pl.Int64}


def claim_reason(params: rules.Params) -> pl.Expr:
    """``rules.eligibility`` over columns: the first failing reason of a claim, null when eligible."""
    return (pl.when(pl.col("registered_date").is_null()).then(pl.lit("loan_not_registered"))
            .when(~pl.col("onboarded")).then(pl.lit("bank_not_onboarded"))
            .when(pl.col("npl_date") < pl.col("registered_date")).then(pl.lit("npl_before_registration"))
            .otherwise(screen_reason(params)))


def half_up_e4(amount: pl.Expr, e4: pl.Expr) -> pl.Expr:
    """``amount × e4 / 10,000`` rounded half-up (ties away from zero, as ``rules.compensation_fen``)."""
    product = amount.abs().cast(pl.Int128) * e4
    return (amount.sign() * ((product * 2 + SCALE) // (2 * SCALE))).cast(pl.Int64)


def simulate(claims: pl.DataFrame, params: rules.Params, balance_fen: int,
             tables: dict[dt.date, rules.Params] | None) -> tuple[pl.DataFrame, int]:
    """Every claim of ``claims`` (``CLAIM_INPUT``, in approval order) assessed by ``params`` and settled against
    ``balance_fen`` in turn: a frame of bank_code, loan_no, reason, loss_fen, ratio_e4, compensation_fen,
    paid_fen and owed_fen (zeros when ineligible), and the balance left. A claim's ratio is the one fixed at
    its registration, else the table of its registration day (``tables``); with ``tables`` None, every loan
    is priced by ``params`` (a what-if)."""
    if balance_fen < 0:
        raise ValueError("a pool balance is never negative")
    if tables is None:
        claims = claims.with_columns(ratio_e4(params).alias("ratio_e4"))
    else:
        # A loan's ratio was fixed when it was registered; one the pool has not registered yet (the job has not
        # run since its upload) is priced by the table of its registration day.
        unfixed = claims.filter(pl.col("fixed_e4").is_null() & pl.col("registered_date").is_not_null())
        by_table = (priced(unfixed.select("loan_id", "registered_date", "start_date", "first_loan", "guarantee"),
                           tables).select("loan_id", pl.col("ratio_e4").alias("table_e4")) if unfixed.height
                    else pl.DataFrame(schema={"loan_id": pl.Int64, "table_e4": pl.Int64}))
        claims = claims.join(by_table, on="loan_id", how="left", maintain_order="left") \
            .with_columns(pl.coalesce("fixed_e4", "table_e4").alias("ratio_e4"))
    priced_claims = claims
    eligible = claim_reason(params).is_null()
    out = priced_claims.select(
        "bank_code", "loan_no", claim_reason(params).alias("reason"),
        pl.when(eligible).then(pl.col("loss_fen")).otherwise(0).alias("loss_fen"),
        pl.when(eligible).then(pl.col("ratio_e4").fill_null(0)).otherwise(0).alias("ratio_e4"),
        pl.when(eligible).then(half_up_e4(pl.col("loss_fen"), pl.col("ratio_e4").fill_null(0))).otherwise(0)
        .alias("compensation_fen"))
    if out.select((pl.col("compensation_fen") < 0).any()).item():
        raise ValueError("a compensation is never negative")
    # Paid in turn: min(compensation, what the claims before left) — the balance less their compensation.
    before = pl.col("compensation_fen").cum_sum() - pl.col("compensation_fen")
    out = out.with_columns(pl.min_horizontal(pl.col("compensation_fen"), (balance_fen - before).clip(lower_bound=0))
                           .cast(pl.Int64).alias("paid_fen"))
    out = out.with_columns((pl.col("compensation_fen") - pl.col("paid_fen")).alias("owed_fen"))
    return out, balance_fen - int(out["paid_fen"].sum() or 0)
