"""Interest-subsidy services through the database: the spec's worked example imported as bank files,
batches through review, approval, release and reconciliation, and every refusal said in zh and en."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from decimal import Decimal
from fractions import Fraction

import polars as pl
import pytest
import xlsxwriter
from django.db import connection
from django.utils import translation

from huiqi.core import params as core_params
from huiqi.core.i18n import shown
from huiqi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from huiqi.core.models import AuditEvent, Parameter
from huiqi.core.tabular import read_table
from huiqi.lending.models import Loan
from huiqi.subsidy import rules, selectors, services
from huiqi.subsidy.models import BatchStatus, PaymentStatus, SubsidyBatch, SubsidyLoanLine

pytestmark = pytest.mark.django_db

date = dt.date
AUG, DEC = date(2020, 8, 31), date(2020, 12, 31)


def fen(yuan: str) -> int:
    return int(Decimal(yuan.replace(",", "")) * 100)


def payable(result_or_batch) -> dict[str, str]:
    if isinstance(result_or_batch, SubsidyBatch):
        rows = result_or_batch.payments.values_list("beneficiary_id", "payable_fen")
        return {b: rules.fen_str(p) for b, p in rows}
    return {b.beneficiary_id: rules.fen_str(b.payable) for b in result_or_batch.beneficiaries}


def read_csv(path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def assert_bilingual(exc: Exception, zh: str, en: str):
    assert zh in exc.zh, exc.zh
    assert en in exc.en, exc.en


def release_through(staff, cutoff, tmp_path):
    """Run (bureau), review (bureau2), approve (bureau3), release: the four-eyes path."""
    batch = services.run_batch(staff["bureau"], cutoff)
    services.review(staff["bureau2"], batch)
    services.approve(staff["bureau3"], batch)
    paths = services.release(staff["admin"], batch, tmp_path / f"release-{batch.pk}")
    return batch, paths


def reconcile(staff, batch, file):
    """The bank's file uploaded by ``bureau`` and confirmed by ``bureau2``: the two-person path."""
    prepared = services.prepare_reconciliation(staff["bureau"], batch, file)
    return services.confirm_reconciliation(staff["bureau2"], prepared)


# --------------------------------------------------------------------------------------------------
# Parameters


def test_default_parameters_are_seeded_as_data(db):
    assert services.current_params(DEC) == rules.Params.defaults()
    row = core_params.history("subsidy.params").get()
    assert (row.program, row.effective_from) == ("subsidy", date(2020, 2, 29))
    with pytest.raises(NotFound):
        services.current_params(date(2020, 2, 28))  # before the 实施办法 was issued


def test_dated_parameters_and_overrides(db):
    core_params.set_value(None, "subsidy.params", "subsidy", {**rules.DEFAULTS, "budget": "500000.00"},
                          date(2020, 10, 1))
    assert services.current_params(AUG).budget_fen == fen("2000000000.00")
    assert services.current_params(DEC).budget_fen == fen("500000.00")
    p = services.current_params(DEC, {"budget": Decimal("750000.00"), "rationing": "none"})
    assert (p.budget_fen, p.rationing, p.cap_fen) == (fen("750000.00"), "none", fen("1000000.00"))
    with pytest.raises(ValidationFailed) as err:
        services.current_params(DEC, {"budjet": "1"})
    assert_bilingual(err.value, "未知参数 budjet", "unknown parameter budjet")


def test_floats_are_refused_clearly(db):
    with pytest.raises(ValidationFailed) as err:
        core_params.set_value(None, "subsidy.params", "subsidy", {**rules.DEFAULTS, "rate": 0.5}, date(2020, 3, 1))
    assert err.value.code == "subsidy.params.float" and err.value.field == "rate"
    assert_bilingual(err.value, "浮点数", "stored as the float 0.5")
    # One stored around the service is passed over: the row before it is in force.
    Parameter.objects.create(key="subsidy.params", program="subsidy", value={**rules.DEFAULTS, "rate": 0.5},
                             effective_from=date(2020, 3, 1))
    assert services.current_params(DEC).rate == Decimal("0.5")
    with pytest.raises(ValidationFailed) as err:
        services.current_params(DEC, {"budget": 500000.0})
    assert err.value.field == "budget"


# --------------------------------------------------------------------------------------------------
# Inputs and simulation


def test_load_inputs_reads_the_ledger_set_based(example, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        inputs = services.load_inputs(DEC)
    assert sorted(inputs.loans["loan_no"]) == ["A-1", "A-2", "A-3", "A-4", "L-1", "O-1", "X-1"]
    assert inputs.payments.height == 16
    assert set(inputs.registry["uscc"]) == {example.A, example.X, example.L, example.M}
    assert inputs.registry.filter(uscc=example.M).select("kind", "size_class", "name").row(0) == (
        "enterprise", "medium", "深圳市丁制造有限公司")
    owner_loan = inputs.loans.filter(loan_no="O-1").row(0, named=True)
    assert (owner_loan["borrower_kind"], owner_loan["owner_of"], owner_loan["borrower_name"]) == (
        "business_owner", example.M, "王五")
    assert inputs.loans.filter(loan_no="A-1")["owner_of"].to_list() == [None]
    assert inputs.payments["accrual_start"].dtype == pl.Date and inputs.payments["interest_fen"].dtype == pl.Int64
    assert inputs.paid_before == {} and inputs.spent_before_fen == 0
    # Only payments paid on or before the cutoff are read.
    assert services.load_inputs(AUG).payments.height == 10


def test_simulate_the_worked_example(example, users):
    result = services.simulate(users["bureau"], DEC)
    lines = {x.loan_no: (rules.fen_str(x.interest_counted_fen), rules.fen_str(x.subsidy_fen), x.reason)
             for x in result.loans}
    assert lines == {
        "A-1": ("22233.32", "11116.66", None),
        "A-2": ("18300.00", "9150.00", None),
        "A-3": ("", "", "purpose_not_operating"),
        "A-4": ("", "", "outside_window"),
        "L-1": ("", "", "borrower_large"),
        "X-1": ("2600000.00", "1300000.00", None),
        "O-1": ("", "", "owned_enterprise_not_small_or_micro"),
    }
    a, x = result.beneficiary(example.A), result.beneficiary(example.X)
    assert (rules.fen_str(a.entitlement), rules.fen_str(x.entitlement)) == ("20266.66", "1000000.00")
    assert payable(result) == {example.A: "20266.66", example.X: "1000000.00"}
    assert not SubsidyBatch.objects.exists()  # a simulation records nothing


def test_simulate_with_the_budget_of_500k(example, users):
    result = services.simulate(users["auditor"], DEC, {"budget": "500000.00"})
    assert payable(result) == {example.A: "9932.04", example.X: "490067.95"}
    assert rules.fen_str(result.unspent) == "0.01"
    factor = Fraction(fen("500000.00"), fen("1020266.66"))
    assert services.fraction_text(result.rationing_factor) == f"{factor.numerator}/{factor.denominator}"


def test_who_may_simulate_and_run(example, users):
    for role in ("enterprise", "bank", "district", "department", "institution"):
        with pytest.raises(PermissionDenied):
            services.simulate(users[role], DEC)
    for role in ("auditor", "enterprise", "bank"):
        with pytest.raises(PermissionDenied) as err:
            services.run_batch(users[role], DEC)
        assert_bilingual(err.value, "无权执行此操作", "you may not do this")
    assert not SubsidyBatch.objects.exists()


def test_compare_by_district_size_class_and_bank(example, users):
    full = services.simulate(None, DEC)
    short = services.simulate(None, DEC, {"budget": "500000.00"})
    diff = services.compare(full, short)
    assert diff["difference"]["payable_total_fen"] == fen("499999.99") - fen("1020266.66")  # 0.01 unspent
    assert diff["difference"]["beneficiaries"] == 0
    assert diff["rationing_factor"] == {"a": "", "b": services.fraction_text(short.rationing_factor)}
    assert diff["beneficiaries"] == {"a": 2, "b": 2, "only_in_a": 0, "only_in_b": 0, "payable_changed": 2}
    by_district = {row["key"]: row for row in diff["by_district"]}
    assert set(by_district) == {"440305", "440304"}  # A in Nanshan, X in Futian
    assert by_district["440305"]["a"] == {"beneficiaries": 1, "due_fen": fen("20266.66"),
                                          "payable_fen": fen("20266.66")}
    assert by_district["440305"]["b"]["payable_fen"] == fen("9932.04")
    assert by_district["440304"]["difference_fen"] == fen("490067.95") - fen("1000000.00")
    assert {row["key"]: row["b"]["payable_fen"] for row in diff["by_size_class"]} == {
        "small": fen("9932.04"), "micro": fen("490067.95")}
    by_bank = {row["key"]: row["a"] for row in diff["by_bank"]}
    assert by_bank == {"B1": {"loans_counted": 2, "subsidy_fen": fen("20266.66")},
                       "B2": {"loans_counted": 1, "subsidy_fen": fen("1300000.00")}}


def test_compare_puts_an_owner_in_the_owned_enterprises_district(example, users):
    # A wider rule (medium-owned counts) makes the owner of M a beneficiary: M is in Nanshan.
    from huiqi.registry.models import Enterprise

    Enterprise.objects.filter(uscc=example.M).update(size_class="small")
    result = services.simulate(None, DEC)
    assert result.beneficiary(example.OWNER).payable == 250_00
    diff = services.compare(services.simulate(None, AUG), result)
    by_district = {row["key"]: row for row in diff["by_district"]}
    assert by_district["440305"]["b"]["beneficiaries"] == 2
    assert {row["key"] for row in diff["by_size_class"]} == {"small", "micro"}


# --------------------------------------------------------------------------------------------------
# Batches: the cumulative example through the whole workflow


def test_cumulative_batches_with_four_eyes_and_payment_file(example, staff, tmp_path):
    runner, reviewer, approver = staff["bureau"], staff["bureau2"], staff["admin"]
    first = services.run_batch(runner, AUG)
    assert first.status == BatchStatus.RUN and first.created_by == runner
    assert payable(first) == {example.A: "9243.75", example.X: "650000.00"}
    assert (first.payable_total_fen, first.beneficiaries, first.loans_counted) == (fen("659243.75"), 2, 3)
    assert first.params == rules.Params.defaults().as_mapping() and first.rationing_factor == ""
    assert SubsidyLoanLine.objects.filter(batch=first).count() == 7
    a2 = SubsidyLoanLine.objects.get(batch=first, loan__loan_no="A-2")
    assert (a2.eligible, a2.subsidy_fen, a2.interest_counted_fen) == (True, 0, 0)  # first payment paid 09-21
    o1 = SubsidyLoanLine.objects.get(batch=first, loan__loan_no="O-1")
    assert (o1.eligible, o1.reason, o1.subsidy_fen, o1.beneficiary_id) == (
        False, "owned_enterprise_not_small_or_micro", None, example.OWNER)

    services.review(reviewer, first)
    with pytest.raises(PermissionDenied) as err:
        services.approve(runner, first)
    assert err.value.code == "subsidy.self_approval"
    assert_bilingual(err.value, "由您计算，不能由您审批", "you ran subsidy batch")
    with pytest.raises(PermissionDenied) as err:
        services.approve(reviewer, first)
    assert_bilingual(err.value, "由您复核，不能由您审批", "you reviewed subsidy batch")
    services.approve(approver, first)
    assert (first.status, first.approved_by, first.reviewed_by) == (BatchStatus.APPROVED, approver, reviewer)

    paths = services.release(runner, first, tmp_path / "release-1")
    assert first.status == BatchStatus.RELEASED and first.released_at is not None
    assert sorted(p.name for p in paths.values()) == ["control.csv", "payments.csv", "payments.xlsx"]
    rows = read_csv(paths["payments.csv"])
    assert rows == [["beneficiary_id", "name", "kind", "amount", "bank_account", "account_name"]] + sorted([
        [example.A, "深圳市甲科技有限公司", "enterprise", "9243.75", "", ""],
        [example.X, "深圳市乙商贸有限公司", "enterprise", "650000.00", "", ""],
    ])
    xlsx = [cells for _, cells in read_table(paths["payments.xlsx"]).rows()]
    assert [r[:4] for r in xlsx] == [r[:4] for r in rows[1:]]
    control = read_csv(paths["control.csv"])
    assert control[0] == ["batch_id", "cutoff", "count", "amount", "payments_csv_sha256"]
    assert control[1][:4] == [str(first.pk), "2020-08-31", "2", "659243.75"]
    import hashlib

    assert control[1][4] == hashlib.sha256(paths["payments.csv"].read_bytes()).hexdigest()

    second = services.run_batch(runner, DEC)
    assert payable(second) == {example.A: "11022.91", example.X: "350000.00"}
    paid = dict(second.payments.values_list("beneficiary_id", "paid_before_fen"))
    assert paid == {example.A: fen("9243.75"), example.X: fen("650000.00")}
    assert second.spent_before_fen == fen("659243.75")
    assert second.budget_left_fen == fen("2000000000.00") - fen("659243.75")

    actions = list(AuditEvent.objects.filter(model="subsidy.SubsidyBatch", object_id=str(first.pk))
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["subsidy.run", "subsidy.review", "subsidy.approve", "subsidy.release"]
    event = AuditEvent.objects.get(action="subsidy.approve")
    assert (event.actor, event.before["status"], event.after["status"]) == (approver, "reviewed", "approved")


def test_the_system_may_neither_run_nor_move_a_batch(example, staff, tmp_path):
    with pytest.raises(PermissionDenied) as err:
        services.run_batch(None, AUG)
    assert_bilingual(err.value, "需要登录用户", "signed-in user")
    batch = services.run_batch(staff["bureau"], AUG)
    for action in (services.review, services.approve):
        with pytest.raises(PermissionDenied) as err:
            action(None, batch)
        assert_bilingual(err.value, "需要登录用户", "signed-in user")
    assert not SubsidyBatch.objects.exclude(created_by=staff["bureau"]).exists()


def test_illegal_transitions_are_conflicts(example, staff, tmp_path):
    batch = services.run_batch(staff["bureau"], AUG)
    with pytest.raises(Conflict) as err:
        services.approve(staff["bureau3"], batch)
    assert err.value.code == "subsidy.illegal_transition" and err.value.status == 409
    assert_bilingual(err.value, "当前状态为“已计算”，不能审批", "is 'Run' and cannot be approved")
    with pytest.raises(Conflict) as err:
        services.release(staff["bureau3"], batch, tmp_path / "release")
    assert_bilingual(err.value, "不能拨付；只有“已审批”的批次才能拨付", "only a batch that is 'Approved' can be")
    services.review(staff["bureau2"], batch)
    with pytest.raises(Conflict) as err:
        services.review(staff["bureau2"], batch)
    assert_bilingual(err.value, "当前状态为“已复核”，不能复核", "is 'Reviewed' and cannot be reviewed")
    with pytest.raises(Conflict) as err:
        services.prepare_reconciliation(staff["bureau"], batch, tmp_path / "nothing.csv")
    assert_bilingual(err.value, "只有已拨付的批次才能对账", "only a released batch can be reconciled")
    assert not (tmp_path / "release").exists()  # nothing was written by the refused release
    batch.refresh_from_db()
    assert batch.status == BatchStatus.REVIEWED


def test_one_open_batch_at_a_time_and_cutoffs_increase(example, staff, tmp_path):
    first = services.run_batch(staff["bureau"], AUG)
    with pytest.raises(Conflict) as err:
        services.run_batch(staff["bureau"], DEC)
    assert_bilingual(err.value, "尚未拨付或作废", "release or cancel it before running another")
    with pytest.raises(ValidationFailed):
        services.cancel(staff["bureau"], first, note=" ")
    services.cancel(staff["bureau"], first, note="台账待更正 ledger being corrected")
    assert first.status == BatchStatus.CANCELLED and first.cancelled_by == staff["bureau"]
    with pytest.raises(Conflict):
        services.review(staff["bureau2"], first)
    batch, _ = release_through(staff, AUG, tmp_path)  # the cancelled batch paid nothing and blocks nothing
    assert payable(batch) == {example.A: "9243.75", example.X: "650000.00"}
    for cutoff in (AUG, date(2020, 8, 1)):
        with pytest.raises(Conflict) as err:
            services.run_batch(staff["bureau"], cutoff)
        assert_bilingual(err.value, "必须晚于上一已拨付批次", "must be after 2020-08-31")
    with pytest.raises(Conflict):
        services.cancel(staff["bureau"], batch, note="too late")


def test_rationed_batch_records_the_exact_factor(example, staff):
    core_params.set_value(staff["bureau"], "subsidy.params", "subsidy", {**rules.DEFAULTS, "budget": "500000.00"},
                          date(2020, 3, 1))
    batch = services.run_batch(staff["bureau"], DEC)
    factor = Fraction(fen("500000.00"), fen("1020266.66"))
    assert batch.rationing_factor == f"{factor.numerator}/{factor.denominator}"
    assert (batch.unspent_fen, batch.budget_left_fen, batch.over_budget) == (1, fen("500000.00"), False)
    assert payable(batch) == {example.A: "9932.04", example.X: "490067.95"}
    assert batch.params["budget"] == "500000.00"


# --------------------------------------------------------------------------------------------------
# Reconciliation


def write_xlsx(path, rows):
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet()
    for r, row in enumerate(rows):
        sheet.write_row(r, 0, row)
    workbook.close()
    return path


def test_failed_payment_is_owed_again_in_the_next_batch(example, staff, tmp_path):
    first, _ = release_through(staff, AUG, tmp_path)
    # The bank's reconciliation, with Chinese headers, as XLSX.
    recon = write_xlsx(tmp_path / "对账.xlsx", [["受益人证件号码", "状态", "备注"],
                                                [example.A, "失败", "账户已销户"],
                                                [example.X, "已支付", ""]])
    rec = reconcile(staff, first, recon)
    assert (rec.paid, rec.failed, rec.unchanged) == (1, 1, 0)
    a = first.payments.get(beneficiary_id=example.A)
    assert (a.status, a.reconcile_note, a.reconciled_by) == (PaymentStatus.FAILED, "账户已销户", staff["bureau2"])
    assert services.paid_before() == {example.X: fen("650000.00")}
    # The same file again changes nothing.
    assert reconcile(staff, first, recon).unchanged == 2

    second = services.run_batch(staff["bureau"], DEC)
    line = second.payments.get(beneficiary_id=example.A)
    assert (line.paid_before_fen, line.due_fen, line.payable_fen) == (0, fen("20266.66"), fen("20266.66"))
    assert payable(second) == {example.A: "20266.66", example.X: "350000.00"}
    assert second.spent_before_fen == fen("650000.00")


def test_a_bad_reconciliation_file_changes_nothing(example, staff, tmp_path):
    first, _ = release_through(staff, AUG, tmp_path)
    bad = tmp_path / "recon.csv"
    bad.write_text("beneficiary_id,status,amount\n"
                   f"{example.A},paid,9243.75\n"
                   f"{example.L},paid,\n"          # not in this batch's payment file
                   f"{example.X},paid,650000.01\n"  # not the amount paid
                   f"{example.A},failed,\n"         # the same beneficiary twice
                   f"{example.X},maybe,\n", encoding="utf-8")
    with pytest.raises(services.ReconciliationRefused) as err:
        services.prepare_reconciliation(staff["bureau"], first, bad)
    # Every error in one pass: row 6 is both a repeat of X (row 4) and a bad status.
    assert sorted((e.row, e.column) for e in err.value.errors) == [
        (3, "beneficiary_id"), (4, "amount"), (5, "beneficiary_id"), (6, "beneficiary_id"), (6, "status")]
    assert_bilingual(err.value, "对账文件有 5 处错误，未做任何更改", "has 5 errors; nothing was changed")
    assert set(first.payments.values_list("status", flat=True)) == {PaymentStatus.PENDING}

    ok = tmp_path / "recon-ok.csv"
    ok.write_text(f"beneficiary_id,status,amount\n{example.A},paid,9243.75\n", encoding="utf-8")
    rec = reconcile(staff, first, ok)
    assert (rec.paid, rec.failed, rec.unchanged) == (1, 0, 0)
    assert first.payments.filter(status=PaymentStatus.PENDING).count() == 1
    flip = tmp_path / "recon-flip.csv"
    flip.write_text(f"受益人证件号码,状态\n{example.A},失败\n", encoding="utf-8")
    with pytest.raises(services.ReconciliationRefused) as err:
        services.prepare_reconciliation(staff["bureau"], first, flip)
    assert_bilingual(err.value, "已对账为“已支付”，不能改为“支付失败”", "already reconciled as 'Paid'")
    with pytest.raises(PermissionDenied):
        services.prepare_reconciliation(staff["auditor"], first, ok)
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(services.ReconciliationRefused) as err:
        services.prepare_reconciliation(staff["bureau"], first, empty)
    assert_bilingual(err.value, "空文件", "empty file")


# --------------------------------------------------------------------------------------------------
# Result files


def test_batch_files_equal_the_simulation_files(example, staff, tmp_path):
    simulated = services.write_outputs(services.simulate(None, DEC), tmp_path / "sim")
    again = services.write_outputs(services.simulate(None, DEC), tmp_path / "sim2")
    batch = services.run_batch(staff["bureau"], DEC)
    recorded = services.write_outputs(batch, tmp_path / "batch")
    for name in ("beneficiaries.csv", "loans.csv"):
        data = simulated[name].read_bytes()
        assert data == again[name].read_bytes() == recorded[name].read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data  # plain UTF-8, \n line ends
    header = simulated["beneficiaries.csv"].read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(services.BENEFICIARY_COLUMNS)


# --------------------------------------------------------------------------------------------------
# Scoped reads


def test_selectors_scope_lines_by_role(example, staff, tmp_path):
    from huiqi.accounts.models import User
    from huiqi.registry.models import Bank

    batch = services.run_batch(staff["bureau"], AUG)
    b1_staff = User.objects.create_user("b1", role="bank", bank=Bank.objects.get(code="B1"))
    a_user = User.objects.create_user("ent-a", role="enterprise")
    a_user.enterprises.add(example.enterprises[example.A])
    m_user = User.objects.create_user("ent-m", role="enterprise")
    m_user.enterprises.add(example.enterprises[example.M])

    for role in ("bureau", "auditor", "admin"):
        assert selectors.loan_lines_for(staff[role]).count() == 7
        assert selectors.beneficiary_lines_for(staff[role]).count() == 2
        assert selectors.batches_for(staff[role]).count() == 1
    # Before release, only city-wide readers see the batch.
    for user in (b1_staff, a_user):
        assert not selectors.loan_lines_for(user).exists()
        assert not selectors.beneficiary_lines_for(user).exists()
    services.review(staff["bureau2"], batch)
    services.approve(staff["bureau3"], batch)
    services.release(staff["admin"], batch, tmp_path)
    assert sorted(selectors.loan_lines_for(b1_staff).values_list("loan__loan_no", flat=True)) == [
        "A-1", "A-2", "A-3", "A-4"]
    assert not selectors.beneficiary_lines_for(b1_staff).exists()
    assert not selectors.batches_for(b1_staff).exists()
    assert sorted(selectors.loan_lines_for(a_user).values_list("loan__loan_no", flat=True)) == [
        "A-1", "A-2", "A-3", "A-4"]
    assert list(selectors.beneficiary_lines_for(a_user).values_list("beneficiary_id", flat=True)) == [example.A]
    # The owner's loan is visible to the owned enterprise (as in the ledger), not the owner's payment line.
    assert list(selectors.loan_lines_for(m_user).values_list("loan__loan_no", flat=True)) == ["O-1"]
    assert not selectors.beneficiary_lines_for(m_user).exists()
    for role in ("district", "department", "institution", "enterprise2"):
        assert not selectors.loan_lines_for(staff[role]).exists()
        assert not selectors.beneficiary_lines_for(staff[role]).exists()
    assert not selectors.loan_lines_for(None).exists()


def test_a_batch_runs_as_a_background_job(example, staff):
    from huiqi.core import jobs

    job = services.start_batch_run(staff["bureau"], AUG, note="八月")
    assert (job.kind, job.status, job.params) == ("subsidy.run_batch", "queued", {"cutoff": "2020-08-31",
                                                                                  "note": "八月"})
    assert not SubsidyBatch.objects.exists()
    assert jobs.run_pending() == 1
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    batch = SubsidyBatch.objects.get(pk=job.result["batch_id"])
    assert (batch.created_by, batch.note, batch.payable_total_fen) == (staff["bureau"], "八月", fen("659243.75"))
    assert job.result["link"] == f"/subsidy/b/{batch.pk}/"

    # Refused at once, nothing queued: another batch is open, a reader, the system (a job has a user).
    with pytest.raises(Conflict) as err:
        services.start_batch_run(staff["bureau"], DEC)
    assert err.value.code == "subsidy.batch_open"
    with pytest.raises(PermissionDenied):
        services.start_batch_run(staff["auditor"], DEC)
    with pytest.raises(PermissionDenied):
        services.start_batch_run(None, DEC)
    assert jobs.run_pending() == 0

    # A job queued by someone who may not run batches fails with the reason, whoever queued it.
    refused = jobs.enqueue("subsidy.run_batch", {"cutoff": "2020-12-31"}, user=staff["auditor"])
    jobs.run_pending()
    refused.refresh_from_db()
    assert refused.status == "failed" and "无权执行此操作" in shown(refused.error)
    with translation.override("en"):
        assert "you may not do this" in shown(refused.error)


def test_a_run_reports_its_steps(example, staff):
    steps = []
    services.run_batch(staff["bureau"], AUG, progress=lambda done, total, message: steps.append((done, total)))
    assert steps == [(0, 3), (1, 3), (2, 3)]


@pytest.mark.parametrize("overrides", [
    {}, {"months": 1}, {"months": 3}, {"months": 12}, {"window_start": "2020-03-10", "window_end": "2020-03-31"},
    {"window_start": "2020-06-20", "window_end": "2020-06-20", "months": 2}, {"rate": "0.333"},
])
@pytest.mark.parametrize("cutoff", [AUG, DEC])
def test_payments_read_for_the_parameters_give_the_same_batch(example, overrides, cutoff):
    """The SQL filter of ``load_inputs(cutoff, params)`` leaves out only payments that cannot count."""
    from huiqi.subsidy.rules_columnar import compute_batch_columns

    params = services.current_params(cutoff, overrides)
    every, filtered = services.load_inputs(cutoff), services.load_inputs(cutoff, params, aggregate=False)
    assert filtered.payments.height <= every.payments.height
    if overrides.get("months") == 1:  # the filter does leave payments out
        assert filtered.payments.height < every.payments.height
    expected = _reference(every, params, cutoff)
    assert compute_batch_columns(filtered.loans, filtered.payments, filtered.registry, params, cutoff, {}, 0) \
        == compute_batch_columns(every.loans, every.payments, every.registry, params, cutoff, {}, 0) == expected
    if connection.vendor == "postgresql":  # and the read that PostgreSQL pre-aggregates, and the snapshot's
        aggregated = services.load_inputs(cutoff, params, aggregate=True)
        assert compute_batch_columns(aggregated.loans, aggregated.payments, aggregated.registry, params, cutoff,
                                     {}, 0) == expected
        snapped = services.load_inputs(cutoff, params)
        assert compute_batch_columns(snapped.loans, snapped.payments, snapped.registry, params, cutoff,
                                     {}, 0) == expected


# --------------------------------------------------------------------------------------------------
# The pre-aggregated read (PostgreSQL sums the whole payments)

postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'",
                                   reason="the aggregated read is PostgreSQL's")


def _reference(inputs: services.Inputs, params: rules.Params, cutoff: dt.date) -> rules.BatchResult:
    """``rules.compute_batch`` (the pure-Python reference) over inputs read with every payment."""
    loans = [rules.Loan(r["bank_code"], r["loan_no"], r["borrower_id"], r["borrower_kind"], r["owner_of"],
                        r["purpose"], r["start_date"], borrower_name=r["borrower_name"] or "")
             for r in inputs.loans.iter_rows(named=True)]
    keyed = inputs.payments
    if "bank_code" not in keyed.columns:  # from the ledger snapshot: the payments name their loan's id
        keyed = keyed.join(inputs.loans.select("id", "bank_code", "loan_no"), on="id")
    payments = [rules.Payment(*row) for row in keyed.select(
        "bank_code", "loan_no", "accrual_start", "accrual_end", "paid_date", "interest_fen").iter_rows()]
    registry = {uscc: rules.RegistryEntry(kind, size, name or "")
                for uscc, kind, size, name in inputs.registry.iter_rows()}
    return rules.compute_batch(loans, payments, registry, params, cutoff, inputs.paid_before, inputs.spent_before_fen)


@pytest.fixture
def month_end_ledger(example):
    """The worked example plus loans started on a month's last day (the period's end is clamped), with
    payments cut by the period's edge at either end, payments wholly outside it and payments paid
    after the cutoffs tested."""
    from huiqi.lending.imports import import_path

    from .conftest import LOAN_HEADER, PAYMENT_HEADER, _loan, write_csv

    A, X, OWNER = example.A, example.X, example.OWNER
    loans = [
        _loan("B1", "E-1", A, "2020-01-31"),
        _loan("B1", "E-2", A, "2020-02-29"),
        _loan("B2", "E-3", X, "2020-08-31"),
        _loan("B2", "E-4", X, "2020-03-31"),
        _loan("B2", "E-5", X, "2020-05-31"),
        _loan("B2", "E-6", OWNER, "2020-06-30", kind="business_owner", owner_of=X),
        _loan("B1", "E-7", A, "2020-04-30", purpose="other"),
    ]
    payments = []

    def pay(bank, no, start, end, paid=None, amount=None):
        s, e = date.fromisoformat(start), date.fromisoformat(end)
        amount = amount or f"{(e - s).days * 37 + len(payments)}.{len(payments) % 100:02d}"
        payments.append([bank, no, start, end, paid or end, amount])

    for bank, no, start in (("B1", "E-1", "2020-01-31"), ("B1", "E-2", "2020-02-29"), ("B2", "E-3", "2020-08-31"),
                            ("B1", "E-7", "2020-04-30")):
        ends = [rules.add_months(date.fromisoformat(start), k) for k in range(14)]
        for k, (s, e) in enumerate(itertools.pairwise(ends)):
            late = e + dt.timedelta(days=9) if k % 5 == 4 else None  # now and then paid late
            pay(bank, no, s.isoformat(), e.isoformat(), late and late.isoformat())
    # Quarterly on the 21st: every period of months 1–12 ends inside a quarter.
    for s, e in (("2020-03-31", "2020-06-21"), ("2020-06-21", "2020-09-21"), ("2020-09-21", "2020-12-21"),
                 ("2020-12-21", "2021-03-21"), ("2021-03-21", "2021-06-21")):
        pay("B2", "E-4", s, e)
    # Accrued from before the start (cut at the start), one paid on the cutoff, one long and paid late.
    pay("B2", "E-5", "2020-05-15", "2020-06-15")
    pay("B2", "E-5", "2020-06-15", "2020-08-31", "2020-08-31")
    pay("B2", "E-5", "2020-08-31", "2021-02-28", "2021-01-05")
    pay("B2", "E-6", "2020-06-30", "2020-12-31")
    pay("B2", "E-6", "2020-12-31", "2021-07-31", amount="1,234,567.89")

    folder = example.folder
    for kind, header, rows in (("loans", LOAN_HEADER, loans), ("payments", PAYMENT_HEADER, payments)):
        record = import_path(None, kind, write_csv(folder / f"month-end-{kind}.csv", header, rows))
        assert record.status == "stored", record.message
    return example


@postgres_only
@pytest.mark.parametrize("months", [1, 6, 12])
@pytest.mark.parametrize("cutoff", [AUG, DEC, date(2021, 3, 31)])
def test_the_aggregated_read_gives_the_reference_batch(month_end_ledger, months, cutoff):
    """PostgreSQL sums the whole payments and sends only the cut ones: the same BatchResult as the
    pure-Python rules over every payment, and as the columnar rules over every payment."""
    from huiqi.subsidy.rules_columnar import WHOLE, compute_batch_columns

    params = services.current_params(cutoff, {"window_start": "2020-01-01", "window_end": "2020-09-30",
                                              "months": months})
    every = services.load_inputs(cutoff)
    aggregated = services.load_inputs(cutoff, params, aggregate=True)
    assert WHOLE in aggregated.loans.columns
    assert aggregated.payments.height < every.payments.height
    assert aggregated.loans.drop(WHOLE).sort("id").equals(every.loans.sort("id"))
    if months == 6 and cutoff != AUG:
        assert aggregated.payments.height > 3  # the cut payments
    expected = _reference(every, params, cutoff)
    assert len(expected.loans) == 14 and sum(x.eligible for x in expected.loans) > 6
    assert any(x.interest_counted != int(x.interest_counted) for x in expected.loans if x.eligible)
    result = compute_batch_columns(aggregated.loans, aggregated.payments, aggregated.registry, params, cutoff,
                                   aggregated.paid_before, aggregated.spent_before_fen)
    assert result == expected
    assert result == compute_batch_columns(every.loans, every.payments, every.registry, params, cutoff, {}, 0)
    assert services.simulate(None, cutoff, {"window_start": "2020-01-01", "window_end": "2020-09-30",
                                            "months": months}) == expected


@postgres_only
def test_the_aggregated_read_leaves_a_sum_beyond_bigint_to_the_rules(month_end_ledger):
    """A loan whose whole payments sum past a bigint is not summed by PostgreSQL (that would not fit
    the column): all its payments are sent and the rules sum them in wider integers."""
    from huiqi.lending.models import InterestPayment, Loan
    from huiqi.subsidy.rules_columnar import WHOLE, compute_batch_columns

    loan = Loan.objects.get(loan_no="E-1")
    huge = 2**62  # three of these pass 2**63 - 1
    InterestPayment.objects.filter(loan=loan).update(interest_fen=huge)
    cutoff = date(2021, 3, 31)
    overrides = {"window_start": "2020-01-01", "window_end": "2020-09-30", "months": 6}
    params = services.current_params(cutoff, overrides)
    aggregated = services.load_inputs(cutoff, params, aggregate=True)
    row = aggregated.loans.filter(pl.col("id") == loan.pk)
    assert row[WHOLE].item() is None  # not summed in the database
    assert aggregated.payments.filter(pl.col("loan_no") == "E-1").height == 6  # every month of the period
    others = aggregated.loans.filter(pl.col("id") != loan.pk)[WHOLE]
    assert others.drop_nulls().len() > 0  # the others still are
    every = services.load_inputs(cutoff)
    expected = _reference(every, params, cutoff)
    counted = next(x for x in expected.loans if x.loan_no == "E-1")
    assert counted.eligible and counted.interest_counted >= 6 * huge
    assert compute_batch_columns(aggregated.loans, aggregated.payments, aggregated.registry, params, cutoff,
                                 {}, 0) == expected


def test_a_run_maps_its_loans_to_their_ids_once_not_once_per_line(example, staff, monkeypatch):
    """Issue 16.1: the map of every loan's id was rebuilt for every loan line, so a run grew with the
    square of the ledger (300,000 loans: never finished). The ids are found in one join, each line
    naming its own loan."""
    built = []
    real = services.Inputs.loan_ids

    def counted(self, *args):
        built.append(1)
        return real(self, *args)

    monkeypatch.setattr(services.Inputs, "loan_ids", counted)
    batch = services.run_batch(staff["bureau"], DEC)
    lines = SubsidyLoanLine.objects.filter(batch=batch).select_related("loan", "loan__bank")
    assert batch.loans_counted >= 2 and lines.count() == Loan.objects.count()
    assert len(built) == 1
    expected = {(x.bank_code, x.loan_no): x.beneficiary_id for x in services.simulate(None, DEC).loans}
    assert {(x.loan.bank.code, x.loan.loan_no): x.beneficiary_id for x in lines} == expected


def test_the_ids_of_loans_not_read_are_refused(example):
    inputs = services.load_inputs(DEC)
    known = inputs.loans.row(0, named=True)
    assert inputs.loan_ids([known["bank_code"]], [known["loan_no"]]).to_list() == [known["id"]]
    with pytest.raises(ValueError):
        inputs.loan_ids([known["bank_code"], "NOPE"], [known["loan_no"], "X-404"])
