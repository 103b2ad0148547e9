"""``lending.rules`` over columns (polars): what the finance programs judge alike about a loan's borrower, for
the set-based renderings of their rules (the interest subsidy's and the risk-compensation pool's
``rules_columnar``). One expression each, agreeing with the per-loan functions (each program's property
tests hold them equal).

The columns read: the bank's ``borrower_kind``, and the registry's entries of the borrower (``b_kind``,
``b_size``, ``b_industry``) and of the enterprise an owner owns (``o_kind``, ``o_size``, ``o_industry``), null
where the registry has none."""

from __future__ import annotations

import polars as pl

_NONE = pl.lit(None, dtype=pl.String)


def borrower_reason() -> pl.Expr:
    """``lending.rules.borrower_reason``: the first failing borrower reason, null when the borrower counts."""
    owned_ok = (pl.col("o_kind") == "individual_business") | pl.col("o_size").is_in(["small", "micro"])
    return (
        pl.when(pl.col("borrower_kind") == "business_owner").then(
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
