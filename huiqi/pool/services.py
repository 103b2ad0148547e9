"""Every write of the risk-compensation pool, and its computations: each checks permission and state,
writes, audits. The headless simulation records nothing."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from huiqi.core.headless import write_csv

from . import rules, selectors

RATIO_TABLE_NAMES = frozenset({"base_ratio", "priority_ratio", "window_ratio", "window_start", "window_end",
                               "cap_normal", "cap_window", "extra_rows"})


@dataclass
class Simulation:
    """A simulation's claims (in approval order), the balance it started from and what is left."""

    lines: list[rules.ClaimLine]
    balance_fen: int
    left_fen: int
    params: rules.Params

    @property
    def paid_fen(self) -> int:
        return sum(line.paid_fen for line in self.lines)

    @property
    def owed_fen(self) -> int:
        return sum(line.owed_fen for line in self.lines)

    @property
    def eligible(self) -> int:
        return sum(1 for line in self.lines if line.reason is None)


def simulate(overrides: Mapping | None = None, *, inputs: selectors.Inputs | None = None) -> Simulation:
    """Settle, recording nothing, every NPL held that has no claim yet, as claims approved in the order
    (``npl_date``, ``bank_code``, ``loan_no``), against the balance left (``pool_size`` less what recorded
    claims were paid). The parameters in force today, with ``overrides`` by the spec's names; a loan's ratio
    is the table's on its registration day, unless ``overrides`` change the table: then every loan is priced
    by the overridden table, as if it had been registered under it."""
    params = selectors.params_on()
    if overrides:
        params = params.with_overrides(overrides)
    inputs = inputs or selectors.unclaimed_npls()
    pricing = None
    if not (overrides and RATIO_TABLE_NAMES & set(overrides)):
        tables = selectors.pricing_by_registration(d for d in inputs.registered_on.values() if d is not None)
        pricing = {key: rules.loan_ratio(loan, tables[loan.registered_date])
                   for key, loan in inputs.loans.items() if loan.registered_date is not None}
    balance = max(params.pool_size_fen - selectors.paid_on_recorded_claims_fen(), 0)
    lines, left = rules.simulate(inputs.loans, inputs.npls, inputs.registry, inputs.onboarded, params, balance,
                                 pricing)
    return Simulation(lines, balance, left, params)


def write_claims_csv(result: Simulation, out_dir: str | os.PathLike) -> Path:
    """``claims.csv`` as the spec's last section says (UTF-8, comma, a header line)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "claims.csv"
    write_csv(path, rules.CSV_HEADER, (line.csv_row() for line in result.lines))
    return path
