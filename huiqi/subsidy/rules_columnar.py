"""The interest-subsidy rules of ``rules.py`` over whole columns (polars), for city-scale batches.

Same contract and same result as :func:`rules.compute_batch` (a test over random ledgers requires
equality of the two ``BatchResult`` s), but the per-loan half runs vectorised: eligibility is one
expression over the loans joined to the registry, each payment's days inside its loan's subsidy
period are computed on whole columns, and a payment that lies wholly inside the period counts its
interest exactly, so a loan whose payments are all whole is summed in integers and rounded with
integer arithmetic. Only the loans with a payment cut by the period's edge (a few per cent) are
counted with ``Fraction`` s, one by one, as the spec's exact rule says. The beneficiary half
(cap, what was paid before, rationing) is ``rules._batch`` itself.

Inputs (no ORM here):

* ``loans``: bank_code, loan_no, borrower_id, borrower_kind, owner_of (null if none), purpose,
  start_date (Date), borrower_name;
* ``payments``: bank_code, loan_no, accrual_start, accrual_end, paid_date (Date), interest_fen (Int64);
* ``registry``: uscc, kind, size_class, name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from fractions import Fraction

import polars as pl

from .rules import BatchResult, LoanLine, Params, _batch, round_half_up

LOAN_SCHEMA = {"bank_code": pl.String, "loan_no": pl.String, "borrower_id": pl.String, "borrower_kind": pl.String,
               "owner_of": pl.String, "purpose": pl.String, "start_date": pl.Date, "borrower_name": pl.String}
PAYMENT_SCHEMA = {"bank_code": pl.String, "loan_no": pl.String, "accrual_start": pl.Date, "accrual_end": pl.Date,
                  "paid_date": pl.Date, "interest_fen": pl.Int64}
REGISTRY_SCHEMA = {"uscc": pl.String, "kind": pl.String, "size_class": pl.String, "name": pl.String}
KEY = ["bank_code", "loan_no"]
_NONE = pl.lit(None, dtype=pl.String)
# Above this, rate × Σ interest could leave Int64: such a ledger is counted with Fractions throughout.
_INT_SAFE = 2**62


def _reason(params: Params) -> pl.Expr:
    """The first failing reason code of the spec's list (``rules.eligibility``), null when the loan counts."""
    owned_ok = (pl.col("o_kind") == "individual_business") | pl.col("o_size").is_in(["small", "micro"])
    return (
        pl.when(pl.col("purpose") != "operating").then(pl.lit("purpose_not_operating"))
        .when(~pl.col("start_date").is_between(params.window_start, params.window_end)).then(pl.lit("outside_window"))
        .when(pl.col("borrower_kind") == "business_owner").then(
            pl.when(pl.col("o_kind").is_null()).then(pl.lit("owned_enterprise_not_in_registry"))
            .when(owned_ok).then(_NONE)
            .when(pl.col("o_size") == "unknown").then(pl.lit("owned_enterprise_size_unknown"))
            .otherwise(pl.lit("owned_enterprise_not_small_or_micro")))
        .when(pl.col("b_kind").is_null()).then(pl.lit("borrower_not_in_registry"))
        .when(pl.col("b_kind") == "individual_business").then(_NONE)
        .when(pl.col("b_size") == "large").then(pl.lit("borrower_large"))
        .when(pl.col("b_size") == "unknown").then(pl.lit("borrower_size_unknown"))
        .otherwise(_NONE)
    )


def _check_inputs(loans: pl.DataFrame, payments: pl.DataFrame, paid_before: Mapping[str, int],
                  spent_before_fen: int) -> None:
    if loans.select(pl.struct(KEY).is_duplicated().any()).item():
        raise ValueError("a loan given twice")
    if payments.height:
        if payments.select(pl.struct([*KEY, "accrual_start"]).is_duplicated().any()).item():
            raise ValueError("a payment given twice")
        if payments.join(loans.select(KEY), on=KEY, how="anti").height:
            raise ValueError("a payment for an unknown loan")
    for beneficiary_id, amount in paid_before.items():
        if type(amount) is not int or amount < 0:
            raise ValueError(f"paid_before[{beneficiary_id!r}] must be a non-negative int of fen")
    if type(spent_before_fen) is not int or spent_before_fen < 0:
        raise ValueError("spent_before_fen must be a non-negative int of fen")


def compute_batch_columns(loans: pl.DataFrame, payments: pl.DataFrame, registry: pl.DataFrame, params: Params,
                          cutoff: dt.date, paid_before: Mapping[str, int], spent_before_fen: int) -> BatchResult:
    """``rules.compute_batch`` over columns: one cumulative batch, the same result to the fen."""
    loans = loans.select([pl.col(c).cast(t) for c, t in LOAN_SCHEMA.items()])
    payments = payments.select([pl.col(c).cast(t) for c, t in PAYMENT_SCHEMA.items()])
    registry = registry.select([pl.col(c).cast(t) for c, t in REGISTRY_SCHEMA.items()])
    _check_inputs(loans, payments, paid_before, spent_before_fen)

    by_borrower = registry.rename({"uscc": "borrower_id", "kind": "b_kind", "size_class": "b_size", "name": "b_name"})
    by_owned = registry.select(pl.col("uscc").alias("owner_of"), pl.col("kind").alias("o_kind"),
                               pl.col("size_class").alias("o_size"))
    loans = (loans.sort(KEY)
             .join(by_borrower, on="borrower_id", how="left", maintain_order="left")
             .join(by_owned, on="owner_of", how="left", maintain_order="left")
             .with_columns(_reason(params).alias("reason"),
                           pl.col("start_date").dt.offset_by(f"{params.months}mo").alias("period_end")))

    counted = (payments.filter(pl.col("paid_date") <= cutoff)
               .join(loans.filter(pl.col("reason").is_null()).select(*KEY, "start_date", "period_end"), on=KEY)
               .with_columns(
                   (pl.min_horizontal("accrual_end", "period_end") - pl.max_horizontal("accrual_start", "start_date"))
                   .dt.total_days().alias("overlap"),
                   (pl.col("accrual_end") - pl.col("accrual_start")).dt.total_days().alias("days"))
               .filter(pl.col("overlap") > 0))
    whole = (counted.group_by(KEY).agg(
        pl.col("interest_fen").filter(pl.col("overlap") == pl.col("days")).sum().alias("whole"),
        (pl.col("overlap") < pl.col("days")).any().alias("cut")))
    loans = loans.join(whole, on=KEY, how="left", maintain_order="left").with_columns(
        pl.col("whole").fill_null(0), pl.col("cut").fill_null(False))

    rate = Fraction(params.rate)
    p, q = rate.numerator, rate.denominator
    exact = loans.filter(pl.col("reason").is_null() & ~pl.col("cut"))
    if exact.height and int(exact["whole"].max()) * max(p, 1) * 2 + q >= _INT_SAFE:
        loans = loans.with_columns(pl.when(pl.col("reason").is_null()).then(True).otherwise(pl.col("cut"))
                                   .alias("cut"))
    # round_half_up(p·S / q) = ⌊(2·p·S + q) / 2q⌋ for S ≥ 0.
    loans = loans.with_columns(
        pl.when(pl.col("reason").is_null() & ~pl.col("cut"))
        .then((pl.col("whole") * (2 * p) + q) // (2 * q)).otherwise(None).alias("subsidy"))

    # The loans with a payment cut by the period's edge: counted exactly, one by one.
    cut_keys = loans.filter(pl.col("reason").is_null() & pl.col("cut")).select(KEY)
    cut_interest: dict[tuple[str, str], Fraction] = {}
    if cut_keys.height:
        for bank_code, loan_no, interest, overlap, days in counted.join(cut_keys, on=KEY).select(
                *KEY, "interest_fen", "overlap", "days").iter_rows():
            key = (bank_code, loan_no)
            cut_interest[key] = cut_interest.get(key, Fraction(0)) + Fraction(interest * overlap, days)

    loan_lines = []
    accounts: dict[str, dict] = {}
    for bank_code, loan_no, borrower_id, reason, whole_fen, subsidy in loans.select(
            *KEY, "borrower_id", "reason", "whole", "subsidy").iter_rows():
        if reason is not None:
            loan_lines.append(LoanLine(bank_code, loan_no, borrower_id, False, reason, None, None))
            continue
        if subsidy is None:
            interest = cut_interest.get((bank_code, loan_no), Fraction(0))
            subsidy = round_half_up(rate * interest)
        else:  # a whole number of fen: equal to its Fraction, and much cheaper to add up
            interest = whole_fen
        loan_lines.append(LoanLine(bank_code, loan_no, borrower_id, True, None, interest, subsidy))
        acc = accounts.get(borrower_id)
        if acc is None:
            accounts[borrower_id] = {"loans": 1, "interest": interest, "subsidy": subsidy}
        else:
            acc["loans"] += 1
            acc["interest"] += interest
            acc["subsidy"] += subsidy

    names, kinds = _names_and_kinds(loans)
    return _batch(params, cutoff, tuple(loan_lines), accounts, names, kinds, paid_before, spent_before_fen)


def _names_and_kinds(loans: pl.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """As ``rules._names_and_kinds``: the registry's name and kind when it lists a borrower that is not
    only a business owner, else those of the borrower's first loan (by bank and loan number)."""
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
    ids, kinds, names = per["borrower_id"].to_list(), per["kind"].to_list(), per["name"].to_list()
    return dict(zip(ids, names)), dict(zip(ids, kinds))


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
