"""The pool spec's worked example, loaded the way production gets it: registry rows, then the banks' files
(banks, loans with their registration day, non-performing loans) through the ledger import."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from huiqi.core.identifiers import generate_uscc
from huiqi.subsidy.tests.conftest import write_csv

A = generate_uscc(random.Random(11))
S = generate_uscc(random.Random(12))
L = generate_uscc(random.Random(13))
IB = generate_uscc(random.Random(14), kind="individual_business")
NAMES = {A: "深圳市甲科技有限公司", S: "深圳市乙商贸有限公司", L: "深圳市丙集团有限公司", IB: "南山区丁便利店"}

LOAN_HEADER = ["bank_code", "loan_no", "borrower_id", "borrower_name", "borrower_kind", "owner_of", "purpose",
               "guarantee", "first_loan", "principal", "annual_rate", "start_date", "maturity_date", "extension_of",
               "registered_date"]
NPL_HEADER = ["bank_code", "loan_no", "npl_date", "outstanding_principal", "recovered"]

# The spec's table: bank, loan, borrower, first, guarantee, start, outstanding, recovered.
TABLE = [
    ("B1", "1", A, "N", "mortgage", "2019-09-01", "1,000,000.00", "100,000.00"),
    ("B1", "2", A, "Y", "mortgage", "2019-10-01", "333,333.33", "0"),
    ("B1", "3", A, "N", "guaranteed", "2020-04-15", "500,000.00", "0"),
    ("B1", "4", IB, "N", "credit", "2020-02-15", "200,000.00", "0"),
    ("B1", "5", IB, "N", "credit", "2020-03-02", "200,000.00", "50,000.00"),
    ("B2", "6", L, "N", "credit", "2020-03-02", "100,000.00", "0"),
    ("B3", "7", S, "N", "credit", "2020-03-02", "100,000.00", "0"),
]


def loan_row(bank, no, borrower, first, guarantee, start, principal="1,000,000.00", registered=None):
    kind = "individual_business" if borrower == IB else "enterprise"
    return [bank, no, borrower, NAMES[borrower], kind, "", "operating", guarantee, first, principal, "4.35", start,
            "2023-12-31", "", registered or start]


@pytest.fixture
def pool_example(db, tmp_path):
    """Registry (A small, S micro, L large, IB an individual business); B1 and B2 onboarded, B3 only signed;
    the seven loans registered the day they started, non-performing in table order from 2020-09-01."""
    from huiqi.lending.imports import import_path
    from huiqi.registry import services as registry

    figures = {A: (50, "3000"), S: (10, "100"), L: (2000, "50000"), IB: (3, "50")}
    for uscc, (employees, revenue) in figures.items():
        registry.register_enterprise(None, uscc=uscc, name=NAMES[uscc], district="440305", industry="F52",
                                     employees=employees, revenue_wan=revenue, figures_year=2019)
    folder = tmp_path / "bank-files"
    folder.mkdir()
    npls = [[bank, no, f"2020-09-{i + 1:02d}", outstanding, recovered]
            for i, (bank, no, _b, _f, _g, _s, outstanding, recovered) in enumerate(TABLE)]
    files = {
        "banks": write_csv(folder / "banks.csv", ["bank_code", "name", "signed_date", "onboarded_date"],
                           [["B1", "甲银行深圳分行", "2019-05-01", "2019-06-01"],
                            ["B2", "乙银行深圳分行", "2019-05-01", "2019-06-01"],
                            ["B3", "丙银行深圳分行", "2019-05-01", ""]]),
        "loans": write_csv(folder / "loans.csv", LOAN_HEADER, [loan_row(*t[:6]) for t in TABLE]),
        "npl": write_csv(folder / "npl.csv", NPL_HEADER, npls),
    }
    for kind, path in files.items():
        record = import_path(None, kind, path)
        assert record.status == "stored", record.message
    from huiqi.pool import services

    assert services.register_loans()["registered"] == 7
    return SimpleNamespace(A=A, S=S, L=L, IB=IB, folder=folder)
