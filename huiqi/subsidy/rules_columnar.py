"""The interest-subsidy rules of ``rules.py`` over whole columns (polars), for city-scale batches.

Same contract and same result as :func:`rules.compute_batch` (a test over random ledgers requires
equality of the two ``BatchResult`` s), but the per-loan half runs vectorised: eligibility is one
expression over the loans joined to the registry, each payment's days inside its loan's subsidy
period are computed on whole columns, and a payment that lies wholly inside the period counts its
interest exactly, so a loan whose payments are all whole is summed in integers and rounded with
integer arithmetic. Only the loans with a payment cut by the period's edge (a few per cent) are
counted with ``Fraction`` s, one by one, as the spec's exact rule says (and every loan, when the
sums would not fit in Int64). Each beneficiary's loans, interest and subsidy are summed in polars
too; the beneficiary half (cap, what was paid before, rationing) is ``rules._batch`` itself.

Inputs (no ORM here):

* ``loans``: bank_code, loan_no, borrower_id, borrower_kind, owner_of (null if none), purpose,
  start_date (Date), borrower_name;
* ``payments``: bank_code, loan_no, accrual_start, accrual_end, paid_date (Date), interest_fen (Int64);
* ``registry``: uscc, kind, size_class, name.

or, pre-aggregated (``services.load_inputs`` on PostgreSQL, where the database sums the payments
wholly inside their loan's period): ``loans`` with a ``whole_fen`` column and ``payments`` holding
only the payments cut by the period's edge (see :func:`compute_batch_columns`).
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Mapping
from contextlib import contextmanager
from fractions import Fraction

import polars as pl

from huiqi.lending.rules_columnar import borrower_reason

from .rules import BatchResult, Lines, LoanLine, Params, _batch

LOAN_SCHEMA = {"bank_code": pl.String, "loan_no": pl.String, "borrower_id": pl.String, "borrower_kind": pl.String,
               "owner_of": pl.String, "purpose": pl.String, "start_date": pl.Date, "borrower_name": pl.String}
PAYMENT_SCHEMA = {"bank_code": pl.String, "loan_no": pl.String, "accrual_start": pl.Date, "accrual_end": pl.Date,
                  "paid_date": pl.Date, "interest_fen": pl.Int64}
REGISTRY_SCHEMA = {"uscc": pl.String, "kind": pl.String, "size_class": pl.String, "name": pl.String}
KEY = ["bank_code", "loan_no"]
# The pre-aggregated column ``loans`` may carry (see compute_batch_columns).
WHOLE = "whole_fen"
# Above this, rate × Σ interest could leave Int64: such a ledger is counted with Fractions throughout.
_INT_SAFE = 2**62


def period_end(start_date: pl.Expr, months: int) -> pl.Expr:
    """The end of each loan's subsidy period, ``rules.add_months(start_date, months)``: polars' calendar
    offset clamps to the month's end as the rule does (2020-08-31 + 6 months = 2021-02-28)."""
    return start_date.dt.offset_by(f"{months}mo")


def payments_that_can_count(loans: pl.DataFrame, payments: pl.DataFrame, params: Params) -> pl.DataFrame:
    """Of ``payments`` (naming their loan by ``id``, as ``loans`` do), those that can count under
    ``params``: of an operating loan started in the window, with days inside its subsidy period. A cheap
    first cut of a whole ledger's payments; ``compute_batch_columns`` decides the rest."""
    candidates = loans.filter((pl.col("purpose") == "operating")
                              & pl.col("start_date").is_between(params.window_start, params.window_end))
    return payments.join(candidates.select("id", "start_date"), on="id").filter(
        (pl.col("accrual_end") > pl.col("start_date"))
        & (pl.col("accrual_start") < period_end(pl.col("start_date"), params.months))).select(payments.columns)


def _reason(params: Params) -> pl.Expr:
    """The first failing reason code of the spec's list (``rules.eligibility``), null when the loan counts."""
    return (
        pl.when(pl.col("purpose") != "operating").then(pl.lit("purpose_not_operating"))
        .when(~pl.col("start_date").is_between(params.window_start, params.window_end)).then(pl.lit("outside_window"))
        .otherwise(borrower_reason())
    )


def _check_inputs(loans: pl.DataFrame, payments: pl.DataFrame, paid_before: Mapping[str, int],
                  spent_before_fen: int, keys_held: bool, key: list[str]) -> None:
    # keys_held: the caller's source holds these rules (the database's constraints)
    if not keys_held and (loans.select(pl.struct(KEY).is_duplicated().any()).item()
                          or (key != KEY and loans.select(pl.struct(key).is_duplicated().any()).item())):
        raise ValueError("a loan given twice")
    if payments.height and not keys_held:
        if payments.select(pl.struct([*key, "accrual_start"]).is_duplicated().any()).item():
            raise ValueError("a payment given twice")
        if payments.join(loans.select(key), on=key, how="anti").height:
            raise ValueError("a payment for an unknown loan")
    if WHOLE in loans.columns and loans.select((pl.col(WHOLE) < 0).any()).item():
        raise ValueError(f"{WHOLE} must not be negative")
    for beneficiary_id, amount in paid_before.items():
        if type(amount) is not int or amount < 0:
            raise ValueError(f"paid_before[{beneficiary_id!r}] must be a non-negative int of fen")
    if type(spent_before_fen) is not int or spent_before_fen < 0:
        raise ValueError("spent_before_fen must be a non-negative int of fen")


def compute_batch_columns(loans: pl.DataFrame, payments: pl.DataFrame, registry: pl.DataFrame, params: Params,
                          cutoff: dt.date, paid_before: Mapping[str, int], spent_before_fen: int, *,
                          keys_held: bool = False) -> BatchResult:
    """``rules.compute_batch`` over columns: one cumulative batch, the same result to the fen.

    ``loans`` may carry a column ``whole_fen`` (Int64; null for none), interest the caller has already
    summed: for each loan, the Σ ``interest_fen`` of payments paid on or before ``cutoff`` that lie
    wholly inside its subsidy period and are *not* given in ``payments`` (the pre-aggregated form that
    ``services.load_inputs`` reads on PostgreSQL, where ``payments`` then holds only the payments cut
    by the period's edge). The payments given are counted on top of it.

    ``payments`` may name their loan by an ``id`` instead of (bank_code, loan_no) when ``loans`` carry an
    ``id`` column too (``services.load_inputs`` from the ledger snapshot): the joins are then on integers.

    The inputs are checked: no loan given twice, no payment given twice (its loan, accrual start), no
    payment of a loan not given. ``keys_held`` says the caller's source already holds those
    three (``services.load_inputs`` from the database, whose unique constraints and references do), and
    skips their checks (docs/decisions.md, "The interest subsidy reads a columnar snapshot")."""
    given_whole = WHOLE in loans.columns
    # The loan's key within this function: its id when the payments name it so, else (bank, number).
    key = ["id"] if "id" in payments.columns and "id" in loans.columns and not set(KEY) <= set(payments.columns) \
        else KEY
    by_id = key != KEY
    loans = loans.select([pl.col(c).cast(t) for c, t in LOAN_SCHEMA.items()]
                         + ([pl.col("id").cast(pl.Int64)] if by_id else [])
                         + ([pl.col(WHOLE).cast(pl.Int64)] if given_whole else []))
    payments = payments.select([pl.col(c).cast(pl.Int64 if c == "id" else PAYMENT_SCHEMA[c])
                                for c in [*key, *(c for c in PAYMENT_SCHEMA if c not in KEY)]])
    registry = registry.select([pl.col(c).cast(t) for c, t in REGISTRY_SCHEMA.items()])
    _check_inputs(loans, payments, paid_before, spent_before_fen, keys_held, key)

    by_borrower = registry.rename({"uscc": "borrower_id", "kind": "b_kind", "size_class": "b_size", "name": "b_name"})
    by_owned = registry.select(pl.col("uscc").alias("owner_of"), pl.col("kind").alias("o_kind"),
                               pl.col("size_class").alias("o_size"))
    loans = ((loans if _sorted_by_key(loans) else loans.sort(KEY))
             .join(by_borrower, on="borrower_id", how="left", maintain_order="left")
             .join(by_owned, on="owner_of", how="left", maintain_order="left")
             .with_columns(_reason(params).alias("reason"),
                           period_end(pl.col("start_date"), params.months).alias("period_end")))

    # Each payment's days inside its loan's subsidy period; a payment with none does not count.
    counted = (payments.filter(pl.col("paid_date") <= cutoff)
               .join(loans.filter(pl.col("reason").is_null()).select(*key, "start_date", "period_end"), on=key)
               .with_columns(
                   (pl.min_horizontal("accrual_end", "period_end") - pl.max_horizontal("accrual_start", "start_date"))
                   .dt.total_days().alias("overlap"),
                   (pl.col("accrual_end") - pl.col("accrual_start")).dt.total_days().alias("days"))
               .filter(pl.col("overlap") > 0))
    # A payment wholly inside the period counts its interest exactly: Σ in integers. Int128, so that
    # a sum too large for the integer path below is seen rather than wrapped round.
    whole = counted.group_by(key).agg(
        pl.col("interest_fen").cast(pl.Int128).filter(pl.col("overlap") == pl.col("days")).sum().alias("whole"),
        (pl.col("overlap") < pl.col("days")).any().alias("cut"))
    loans = loans.join(whole, on=key, how="left", maintain_order="left").with_columns(
        (pl.col("whole").fill_null(0) + (pl.col(WHOLE).cast(pl.Int128).fill_null(0) if given_whole else 0))
        .alias("whole"),
        pl.col("cut").fill_null(False), pl.col("reason").is_null().alias("eligible"))

    rate = Fraction(params.rate)
    p, q = rate.numerator, rate.denominator
    # The eligible loans without a cut payment are summed and rounded in integers (vectorised) when
    # every sum below stays in Int64: round_half_up(p·S / q) = ⌊(2·p·S + q) / 2q⌋ for S ≥ 0. The
    # others (the loans with a cut payment; all of them on a ledger too large for Int64) are counted
    # one by one with Fractions, as the spec's exact rule says.
    total = loans.select(pl.col("whole").filter(pl.col("eligible")).sum()).item() or 0
    vectorised = total * (2 * max(p, 1)) + 2 * q < _INT_SAFE
    exact = pl.col("eligible") & ~pl.col("cut") if vectorised else pl.lit(False)
    loans = loans.with_row_index("row").with_columns(
        exact.alias("exact"),
        pl.when(exact).then(pl.col("whole").cast(pl.Int64, strict=False)).alias("interest"),
        pl.when(exact).then((pl.col("whole").cast(pl.Int64, strict=False) * (2 * p) + q) // (2 * q))
        .alias("subsidy"))

    cut_parts: dict[tuple, list[tuple[int, int]]] = {}
    one_by_one = loans.filter(pl.col("eligible") & ~pl.col("exact")).select(*key, "row", "borrower_id", "whole")
    if one_by_one.height:
        # Only the cut payments need a fraction (numerator, denominator): the whole ones are in "whole".
        for *loan, interest, overlap, days in counted.filter(pl.col("overlap") < pl.col("days")).join(
                one_by_one.select(key), on=key).select(*key, "interest_fen", "overlap", "days").iter_rows():
            cut_parts.setdefault(tuple(loan), []).append((interest * overlap, days))

    # Per beneficiary, in polars: the loans counted and the sums over the loans summed in integers;
    # the loans counted one by one are added below. Rows by beneficiary_id, as rules._batch takes them.
    names = _names_and_kinds(loans)
    per = (loans.filter(pl.col("eligible")).group_by("borrower_id")
           .agg(pl.len().alias("loans"), pl.col("interest").sum(), pl.col("subsidy").sum())
           .sort("borrower_id")
           .join(names, on="borrower_id", how="left", maintain_order="left")
           .with_row_index("at"))
    one_by_one = one_by_one.join(per.select("borrower_id", "at"), on="borrower_id", how="left",
                                 maintain_order="left")

    # Python objects from here: the columns as lists, and the Fractions of the loans counted one by one
    # (thousands in a city batch), which the cyclic collector need not scan as they are made.
    with _no_gc():
        interests, subsidies = loans["interest"].to_list(), loans["subsidy"].to_list()
        interest_sums, subsidy_sums = per["interest"].to_list(), per["subsidy"].to_list()
        for *loan, row, _, whole_fen, at in one_by_one.iter_rows():
            # The loan's interest whole + Σ interest·overlap/days, summed as one fraction in integers and
            # made a Fraction (its gcd taken) once; then round_half_up(rate · interest), for the rate and
            # the interest ≥ 0, as ⌊(2·p·n + q·d) / 2·q·d⌋ (the same formula as the loans summed above).
            # Integers, not Fraction arithmetic, for speed (docs/decisions.md, the snapshot's "Later still").
            num, den = whole_fen, 1
            for part, days in cut_parts.get(tuple(loan), ()):
                num, den = num * days + part * den, den * days
            interest = Fraction(num, den)
            num, den = interest.numerator, interest.denominator
            subsidy = (2 * p * num + q * den) // (2 * q * den)
            interests[row], subsidies[row] = interest, subsidy
            interest_sums[at] += interest
            subsidy_sums[at] += subsidy
        # The frame's own columns where polars holds them (lists only when read as such: Lines.given).
        loan_lines = Lines(LoanLine, [loans["bank_code"], loans["loan_no"], loans["borrower_id"],
                                      loans["eligible"], loans["reason"], interests, subsidies])
        counted = [per["borrower_id"].to_list(), per["name"].to_list(), per["kind"].to_list(),
                   per["loans"].to_list(), interest_sums, subsidy_sums]
        return _batch(params, cutoff, loan_lines, counted, paid_before, spent_before_fen, _lookup(names))


def _sorted_by_key(loans: pl.DataFrame) -> bool:
    """Whether the loans are in (bank_code, loan_no) order already (the ledger snapshot keeps them so):
    one comparison of each row with the next, a tenth of the time of sorting them again."""
    if loans.height < 2:
        return True
    bank, number = pl.col("bank_code"), pl.col("loan_no")
    following = (bank < bank.shift(-1)) | ((bank == bank.shift(-1)) & (number <= number.shift(-1)))
    # A missing key (never from the database) compares as null: counted as out of order, so sorted.
    return bool(loans.select(following.head(loans.height - 1).fill_null(False).all()).item())


def _lookup(names: pl.DataFrame):
    """borrower_id → (name, kind), for the few beneficiaries paid before with nothing counted now."""
    found: dict[str, tuple[str, str]] = {}

    def name_and_kind(beneficiary_id: str) -> tuple[str, str]:
        if not found:
            found.update(zip(names["borrower_id"].to_list(), zip(names["name"].to_list(), names["kind"].to_list())))
        return found.get(beneficiary_id, ("", ""))

    return name_and_kind


@contextmanager
def _no_gc():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # What was made meanwhile is the result, kept: it goes straight to the oldest generation
            # (freeze, then unfreeze), instead of a first collection walking every element of its
            # lists, millions of them (docs/decisions.md, the snapshot's "Later still").
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _names_and_kinds(loans: pl.DataFrame) -> pl.DataFrame:
    """As ``rules._names_and_kinds``: the registry's name and kind when it lists a borrower that is not
    only a business owner, else those of the borrower's first loan (by bank and loan number).
    One row per borrower: borrower_id, kind, name."""
    per = loans.group_by("borrower_id", maintain_order=True).agg(
        (pl.col("borrower_kind") != "business_owner").any().alias("registered"),
        pl.col("borrower_kind").first().alias("first_kind"),
        pl.col("borrower_name").filter(pl.col("borrower_name").is_not_null() & (pl.col("borrower_name") != ""))
        .first().alias("first_name"),
        pl.col("b_kind").first(), pl.col("b_name").first(),
    )
    entry = pl.col("registered") & pl.col("b_kind").is_not_null()
    per = per.select(
        "borrower_id",
        pl.when(entry).then(pl.col("b_kind")).otherwise(pl.col("first_kind")).alias("kind"),
        pl.when(entry & pl.col("b_name").is_not_null() & (pl.col("b_name") != "")).then(pl.col("b_name"))
        .otherwise(pl.col("first_name").fill_null("")).alias("name"),
    )
    return per


def frames_from_objects(loans, payments, registry) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The inputs of ``rules.compute_batch`` (objects) as the columns this module takes (for tests)."""
    loan_frame = pl.DataFrame(
        [(x.bank_code, x.loan_no, x.borrower_id, x.borrower_kind, x.owner_of, x.purpose, x.start_date,
          x.borrower_name) for x in loans], schema=LOAN_SCHEMA, orient="row")
    payment_frame = pl.DataFrame(
        [(x.bank_code, x.loan_no, x.accrual_start, x.accrual_end, x.paid_date, x.interest_fen) for x in payments],
        schema=PAYMENT_SCHEMA, orient="row")
    registry_frame = pl.DataFrame(
        [(uscc, e.kind, e.size_class, e.name) for uscc, e in registry.items()], schema=REGISTRY_SCHEMA, orient="row")
    return loan_frame, payment_frame, registry_frame
