"""`huiqi subsidy simulate|run|files`: the spec's worked example, headless, checked on the files it writes."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command

from huiqi.core.errors import PermissionDenied
from huiqi.core.models import AuditEvent
from huiqi.subsidy import services
from huiqi.subsidy.models import BatchStatus, SubsidyBatch

pytestmark = pytest.mark.django_db


def rows(path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def simulate(out, *extra):
    # call_command, not the command line: the latter closes the test's database connection.
    call_command("subsidy", "simulate", "--cutoff", "2020-12-31", "--out", str(out), *extra)


def by_id(table):
    header, *body = table
    return header, {row[0]: row for row in body}


def test_simulate_writes_the_worked_example(example, tmp_path, capsys):
    simulate(tmp_path / "out")
    printed = capsys.readouterr().out
    assert "nothing recorded" in printed and "实付合计 payable: 1020266.66" in printed
    assert not SubsidyBatch.objects.exists()

    header, beneficiaries = by_id(rows(tmp_path / "out" / "beneficiaries.csv"))
    assert header == ["beneficiary_id", "name", "kind", "loans_counted", "interest_counted", "subsidy_before_cap",
                      "entitlement", "paid_before", "due", "payable"]
    assert beneficiaries == {
        example.A: [example.A, "深圳市甲科技有限公司", "enterprise", "2", "40533.32", "20266.66", "20266.66", "0.00",
                    "20266.66", "20266.66"],
        example.X: [example.X, "深圳市乙商贸有限公司", "enterprise", "1", "2600000.00", "1300000.00", "1000000.00",
                    "0.00", "1000000.00", "1000000.00"],
    }
    assert list(beneficiaries) == sorted(beneficiaries)

    loans = rows(tmp_path / "out" / "loans.csv")
    assert loans == [
        ["bank_code", "loan_no", "beneficiary_id", "eligible", "reason", "interest_counted", "subsidy"],
        ["B1", "A-1", example.A, "true", "", "22233.32", "11116.66"],
        ["B1", "A-2", example.A, "true", "", "18300.00", "9150.00"],
        ["B1", "A-3", example.A, "false", "purpose_not_operating", "", ""],
        ["B1", "A-4", example.A, "false", "outside_window", "", ""],
        ["B2", "L-1", example.L, "false", "borrower_large", "", ""],
        ["B2", "O-1", example.OWNER, "false", "owned_enterprise_not_small_or_micro", "", ""],
        ["B2", "X-1", example.X, "true", "", "2600000.00", "1300000.00"],
    ]


def test_simulate_with_a_budget_of_500k_from_a_params_file(example, tmp_path, capsys):
    params = tmp_path / "budget.json"
    params.write_text('{"budget": 500000.00}', encoding="utf-8")  # a JSON number, read exactly
    simulate(tmp_path / "out", "--params", str(params))
    _, beneficiaries = by_id(rows(tmp_path / "out" / "beneficiaries.csv"))
    assert {k: (v[8], v[9]) for k, v in beneficiaries.items()} == {
        example.A: ("20266.66", "9932.04"), example.X: ("1000000.00", "490067.95")}
    printed = capsys.readouterr().out
    assert "结余 unspent: 0.01" in printed and "分配系数 rationing factor: 25000000/51013333" in printed


def test_simulating_twice_gives_byte_identical_files(example, tmp_path):
    simulate(tmp_path / "one")
    simulate(tmp_path / "two")
    for name in ("beneficiaries.csv", "loans.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def run(out, cutoff="2020-08-31", who="bureau"):
    call_command("subsidy", "run", "--cutoff", cutoff, "--out", str(out), "--as", who)


def test_run_records_a_batch_as_the_user_it_names(example, staff, tmp_path, capsys):
    """Issue 16.10: the command names its acting user, recorded as the batch's creator, so that the
    pages' maker-checker holds for it: three people run, review and approve."""
    run(tmp_path / "run")
    batch = SubsidyBatch.objects.get()
    assert (batch.status, batch.created_by, batch.payable_total_fen) == (BatchStatus.RUN, staff["bureau"], 65924375)
    assert AuditEvent.objects.get(action="subsidy.run").actor == staff["bureau"]
    printed = capsys.readouterr().out
    assert f"#{batch.pk}" in printed and "实付合计 payable: 659243.75" in printed and "bureau" in printed
    _, beneficiaries = by_id(rows(tmp_path / "run" / "beneficiaries.csv"))
    assert {k: v[9] for k, v in beneficiaries.items()} == {example.A: "9243.75", example.X: "650000.00"}
    with pytest.raises(CommandError) as err:  # one open batch at a time
        run(tmp_path / "again", "2020-12-31")
    assert "尚未拨付或作废" in str(err.value) and "release or cancel it" in str(err.value)

    # The one who ran it reviews and approves nothing of it; the reviewer does not approve it.
    with pytest.raises(PermissionDenied) as err:
        services.review(staff["bureau"], batch)
    assert err.value.code == "subsidy.self_review"
    services.review(staff["bureau2"], batch)
    for who in ("bureau", "bureau2"):
        with pytest.raises(PermissionDenied) as err:
            services.approve(staff[who], batch)
        assert err.value.code == "subsidy.self_approval"
    services.approve(staff["bureau3"], batch)
    paths = services.release(staff["admin"], batch, tmp_path / "bank")
    assert rows(paths["control.csv"])[1][2:4] == ["2", "659243.75"]
    run(tmp_path / "second", "2020-12-31", who="bureau2")
    _, beneficiaries = by_id(rows(tmp_path / "second" / "beneficiaries.csv"))
    assert {k: (v[7], v[9]) for k, v in beneficiaries.items()} == {
        example.A: ("9243.75", "11022.91"), example.X: ("650000.00", "350000.00")}


def test_run_is_refused_without_a_user_who_may_run(example, staff, tmp_path):
    with pytest.raises(CommandError) as err:
        call_command("subsidy", "run", "--cutoff", "2020-08-31", "--out", str(tmp_path / "run"))
    assert "--as" in str(err.value)
    staff["bureau2"].is_active = False
    staff["bureau2"].save()
    for who, zh, en in (("nobody", "没有用户名为 nobody 的用户", "there is no user nobody"),
                        ("auditor", "无权执行此操作（subsidy.run）", "auditor may not do this (subsidy.run)"),
                        ("bureau2", "用户 bureau2 已停用", "user bureau2 is deactivated")):
        with pytest.raises(CommandError) as err:
            run(tmp_path / "run", who=who)
        assert zh in str(err.value) and en in str(err.value), str(err.value)
    assert not SubsidyBatch.objects.exists() and not (tmp_path / "run").exists()


def test_no_batch_is_recorded_without_its_creator(example, staff):
    with pytest.raises(PermissionDenied):
        services.run_batch(None, dt.date(2020, 8, 31))
    assert not SubsidyBatch.objects.exists()
    # A batch recorded before runs named their user (no creator) is not reviewed: two people would do.
    batch = services.run_batch(staff["bureau"], dt.date(2020, 8, 31))
    SubsidyBatch.objects.filter(pk=batch.pk).update(created_by=None)
    with pytest.raises(PermissionDenied) as err:
        services.review(staff["bureau2"], batch)
    assert err.value.code == "subsidy.no_creator" and "作废" in err.value.zh and "cancel" in err.value.en
    services.cancel(staff["bureau2"], batch, note="无计算人")


@pytest.mark.parametrize("content, zh, en", [
    ("{budget: 1}", "不是有效的 JSON", "is not valid JSON"),
    ("[1, 2]", "必须是 名称→取值 的 JSON 对象", "must be a JSON object"),
    ('{"budjet": "1"}', "未知参数 budjet", "unknown parameter budjet"),
    ('{"rate": "half"}', "贴息比例 不是数字", "Rate is not a number"),
    ('{"window_start": "2020-02-30"}', "不是 YYYY-MM-DD 格式的日期", "is not a YYYY-MM-DD date"),
    ('{"rationing": "lottery"}', "按比例分配（pro_rata）或全额支付（none）", "rationing must be pro rata (pro_rata) or in full (none)"),
])
def test_bad_parameter_files_are_refused_in_both_languages(example, tmp_path, content, zh, en):
    params = tmp_path / "p.json"
    params.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError) as err:
        simulate(tmp_path / "out", "--params", str(params))
    assert zh in str(err.value) and en in str(err.value)
    assert not (tmp_path / "out").exists()


def test_bad_arguments_are_refused_in_both_languages(db, tmp_path):
    with pytest.raises(CommandError) as err:
        call_command("subsidy", "simulate", "--cutoff", "2020-13-01", "--out", str(tmp_path))
    assert "不是 YYYY-MM-DD 格式的日期" in str(err.value) and "is not a YYYY-MM-DD date" in str(err.value)
    with pytest.raises(CommandError) as err:
        simulate(tmp_path / "out", "--params", str(tmp_path / "missing.json"))
    assert "参数文件不存在" in str(err.value) and "parameter file not found" in str(err.value)
    with pytest.raises(CommandError) as err:  # no parameters in force before the 实施办法
        call_command("subsidy", "simulate", "--cutoff", "2020-01-31", "--out", str(tmp_path))
    assert "没有生效的取值" in str(err.value) and "has no value in force" in str(err.value)


def test_overrides_file_written_by_json_dumps(example, tmp_path):
    params = tmp_path / "p.json"
    params.write_text(json.dumps({"cap": "10000.00", "months": 3}), encoding="utf-8")
    simulate(tmp_path / "out", "--params", str(params))
    _, beneficiaries = by_id(rows(tmp_path / "out" / "beneficiaries.csv"))
    assert {k: v[6] for k, v in beneficiaries.items()} == {example.A: "10000.00", example.X: "10000.00"}
