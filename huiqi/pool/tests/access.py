"""The risk-compensation pool in the access matrix (``huiqi/tests/test_access_matrix.py``).

The world gets (``prepare``): a loan of the matrix's bank (ICBC, onboarded) registered in the pool and a
claim the bank's user filed on it. The bureau, auditors and administrators see every claim; a bank's staff
its own bank's; enterprises, districts, departments and fund institutions have no part in the pool. Only a
bank's staff file claims (the confirmation of filing is their bank's). The world also gets a refused
classification file of the bank and one classification of its loan: the pool's files, a loan's page and the
classifications are read as claims are; only a bank's staff send files and report classifications."""

from __future__ import annotations

from huiqi.tests.matrix import LOGIN, NF, NO, OK, UNAUTH, row

EXPECT = {
    #                                     anon   ent  ent2 dist dist2 dept bureau bank inst audit admin
    "pool:index":                    row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "pool:claim_list":               row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "pool:claim_export":             row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "pool:claim_new":                row(LOGIN, NO,  NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK),
    "pool:claim_detail":             row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "pool:claim_filed":              row(LOGIN, NO,  NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK),
    "pool:banks":                    row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "pool:ledger":                   row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "pool:ledger_export":            row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "pool:banks_export":             row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "pool:loans":                    row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "pool:loans_export":             row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "pool:scorecard_export":         row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "pool:report":                   row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "pool:report_export":            row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "pool:what_if":                  row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    "pool:uploads":                  row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "pool:upload_detail":            row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "pool:upload_submitted":         row(LOGIN, NO,  NO,  NO,  NO,  NO,  NF,  OK,  NO,  NF,  NF),
    "pool:upload_error_report":      row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "pool:template":                 row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "pool:loan_detail":              row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    # A report's PDF is its asker's (and administrators'): no one else learns that the job exists.
    "pool:report_pdf":               row(LOGIN, NO,  NO,  NO,  NO,  NO,  NF,  NF,  NO,  NF,  NF),
    "pool:repricing":                row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    "pool:repricing_detail":         row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    # --- API: lists are scoped (empty for those without a part in the pool), a claim outside it is a 404 ---
    "pool-claim-list":               row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "pool-claim-detail":             row(UNAUTH, NF, NF,  NF,  NF,  NF,  OK,  OK,  NF,  OK,  OK),
    "pool-classification-list":      row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "pool-classification-detail":    row(UNAUTH, NF, NF,  NF,  NF,  NF,  OK,  OK,  NF,  OK,  OK),
}

FILL = {
    "pool:claim_export": lambda w: {"fmt": "csv"},
    "pool:ledger_export": lambda w: {"fmt": "csv"},
    "pool:banks_export": lambda w: {"fmt": "xlsx"},
    "pool:loans_export": lambda w: {"fmt": "csv"},
    "pool:scorecard_export": lambda w: {"fmt": "xlsx"},
    "pool:claim_detail": lambda w: {"pk": w["pool_claim"].pk},
    "pool:claim_filed": lambda w: {"pk": w["pool_claim"].pk},
    "pool-claim-detail": lambda w: {"pk": w["pool_claim"].pk},
    "pool:upload_detail": lambda w: {"pk": w["pool_upload"].pk},
    "pool:upload_submitted": lambda w: {"pk": w["pool_upload"].pk},
    "pool:upload_error_report": lambda w: {"pk": w["pool_upload"].pk, "fmt": "csv"},
    "pool:template": lambda w: {"kind": "classifications", "lang": "zh", "fmt": "csv"},
    "pool:loan_detail": lambda w: {"pk": w["pool_claim"].loan_id},
    "pool-classification-detail": lambda w: {"pk": w["pool_classification"].pk},
    "pool:report_pdf": lambda w: {"job": 2**31 - 1},
    "pool:repricing_detail": lambda w: {"pk": w["pool_repricing"].pk},
}

# Only a bank's staff file claims and report classifications.
WRITE_TABLE = {"pool-claim-list": {"post": {"bank"}}, "pool-classification-list": {"post": {"bank"}}}


def prepare(world):
    if "pool_claim" in world:
        return world
    import datetime as dt

    from django.core.files.uploadedfile import SimpleUploadedFile

    from huiqi.lending.models import Loan
    from huiqi.pool.imports import start_upload
    from huiqi.pool.models import Claim, Classification

    bank = world["bank_a"]
    loan = Loan.objects.create(
        bank=bank, loan_no="POOL-1", borrower_id=world["ns1"].uscc, borrower_name=world["ns1"].name,
        borrower_kind="enterprise", purpose="operating", guarantee="credit", first_loan=True,
        principal_fen=100_000_000, annual_rate="4.3500", start_date=dt.date(2020, 3, 2),
        maturity_date=dt.date(2021, 3, 2), registered_date=dt.date(2020, 3, 2))
    world["pool_classification"] = Classification.objects.create(loan=loan, on=dt.date(2020, 9, 1), tier="substandard")
    world["pool_upload"] = start_upload(world["users"]["bank"], "classifications", SimpleUploadedFile(
        "classifications.csv", f"银行机构代码,贷款合同编号,分类日期,五级分类\n{bank.code},NOPE,2020-06-30,正常\n".encode(),
        content_type="text/csv"))
    assert world["pool_upload"].status == "refused", world["pool_upload"].message
    world["pool_claim"] = Claim.objects.create(
        bank=bank, loan=loan, npl_date=dt.date(2020, 9, 1), outstanding_fen=50_000_000, loss_fen=50_000_000,
        ratio="0.8000", compensation_fen=40_000_000, filed_by=world["users"]["bank"], filed_on=dt.date(2020, 9, 2))
    from huiqi.pool.models import Repricing

    world["pool_repricing"] = Repricing.objects.create(table_on=dt.date(2020, 9, 1), note="matrix",
                                                      proposed_by=world["users"]["bureau"])
    return world
