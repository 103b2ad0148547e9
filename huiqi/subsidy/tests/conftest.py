"""The spec's worked example, loaded the way production gets it: registry rows, then the banks'
loan and payment files through the ledger import (``huiqi.lending.imports.import_path``)."""

from __future__ import annotations

import csv
import random
from types import SimpleNamespace

import pytest

from huiqi.core.identifiers import generate_resident_id, generate_uscc

A = generate_uscc(random.Random(101))
X = generate_uscc(random.Random(202))
L = generate_uscc(random.Random(303))
M = generate_uscc(random.Random(404))
OWNER = generate_resident_id(random.Random(505))
NAMES = {A: "深圳市甲科技有限公司", X: "深圳市乙商贸有限公司", L: "深圳市丙集团有限公司", M: "深圳市丁制造有限公司",
         OWNER: "王五"}

LOAN_HEADER = ["bank_code", "loan_no", "borrower_id", "borrower_name", "borrower_kind", "owner_of", "purpose",
               "guarantee", "first_loan", "principal", "annual_rate", "start_date", "maturity_date", "extension_of"]
PAYMENT_HEADER = ["bank_code", "loan_no", "accrual_start", "accrual_end", "paid_date", "interest"]


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _loan(bank, no, borrower, start, purpose="operating", kind="enterprise", owner_of=""):
    return [bank, no, borrower, NAMES[borrower], kind, owner_of, purpose, "credit", "Y", "10,000,000.00", "4.35",
            start, "2022-12-31", ""]


def _paid_on_end(bank, no, start, end, interest):
    return [bank, no, start, end, end, interest]


LOANS = [
    _loan("B1", "A-1", A, "2020-03-10"),
    _loan("B1", "A-2", A, "2020-06-20"),
    _loan("B1", "A-3", A, "2020-03-01", purpose="other"),
    _loan("B1", "A-4", A, "2020-07-01"),
    _loan("B2", "L-1", L, "2020-03-01"),
    _loan("B2", "X-1", X, "2020-03-31"),
    _loan("B2", "O-1", OWNER, "2020-04-01", kind="business_owner", owner_of=M),
]
A1 = ["3745.83", "3625.00", "3745.83", "3625.00", "3745.83", "3745.83", "3625.00"]
PAYMENTS = [
    _paid_on_end("B1", "A-1", f"2020-{3 + i:02d}-10", f"2020-{4 + i:02d}-10", amount) for i, amount in enumerate(A1)
] + [
    _paid_on_end("B1", "A-2", "2020-06-20", "2020-09-21", "9300.00"),
    _paid_on_end("B1", "A-2", "2020-09-21", "2020-12-21", "9100.00"),
    _paid_on_end("B1", "A-3", "2020-03-01", "2020-04-01", "1000.00"),
    _paid_on_end("B1", "A-4", "2020-07-01", "2020-08-01", "1000.00"),
    _paid_on_end("B2", "L-1", "2020-03-01", "2020-04-01", "1000.00"),
    _paid_on_end("B2", "X-1", "2020-03-31", "2020-06-30", "1,300,000.00"),
    _paid_on_end("B2", "X-1", "2020-06-30", "2020-09-30", "1,300,000.00"),
    _paid_on_end("B2", "X-1", "2020-09-30", "2020-12-31", "1,300,000.00"),
    _paid_on_end("B2", "O-1", "2020-04-01", "2020-05-01", "500.00"),
]


@pytest.fixture
def example(db, tmp_path):
    """Registry (A small, X micro, L large, M medium, the owner of M), banks B1/B2, the ledger imported."""
    from huiqi.lending.imports import import_path
    from huiqi.registry import services as registry

    figures = {A: (50, "3000"), X: (10, "100"), L: (2000, "50000"), M: (500, "5000")}
    enterprises = {}
    for uscc, (employees, revenue) in figures.items():
        enterprises[uscc] = registry.register_enterprise(
            None, uscc=uscc, name=NAMES[uscc], district="440305" if uscc != X else "440304", industry="C39",
            employees=employees, revenue_wan=revenue, figures_year=2019)
    assert [enterprises[c].size_class for c in (A, X, L, M)] == ["small", "micro", "large", "medium"]
    registry.register_owner(None, resident_id=OWNER, name=NAMES[OWNER], owns=[M])

    folder = tmp_path / "bank-files"
    folder.mkdir()
    files = {
        "banks": write_csv(folder / "banks.csv", ["bank_code", "name", "signed_date", "onboarded_date"],
                           [["B1", "甲银行深圳分行", "2019-05-01", "2019-06-01"],
                            ["B2", "乙银行深圳分行", "2019-05-01", "2019-06-01"]]),
        "loans": write_csv(folder / "loans.csv", LOAN_HEADER, LOANS),
        "payments": write_csv(folder / "payments.csv", PAYMENT_HEADER, PAYMENTS),
    }
    for kind, path in files.items():
        record = import_path(None, kind, path)
        assert record.status == "stored", record.message
    return SimpleNamespace(A=A, X=X, L=L, M=M, OWNER=OWNER, enterprises=enterprises, folder=folder)


@pytest.fixture
def staff(users):
    """Three different bureau-level people (runner, reviewer, approver) and the other roles."""
    from huiqi.accounts.models import User

    return {**users,
            "bureau2": User.objects.create_user("bureau2", role="bureau"),
            "bureau3": User.objects.create_user("bureau3", role="bureau")}
