"""The headless entry points: huiqi import / export / createuser, through the real `huiqi` command line."""

import pytest
from django.core.management import CommandError, call_command

from huiqi import cli
from huiqi.accounts.models import User
from huiqi.core.tabular import read_table
from huiqi.registry.models import Enterprise

pytestmark = pytest.mark.django_db

HEADER = "统一社会信用代码,企业名称,主体类型,所属区,行业代码,从业人员（人）,营业收入（万元）,数据年度\n"


def test_two_word_commands_map_to_management_commands(monkeypatch):
    seen = []
    monkeypatch.setattr("django.core.management.execute_from_command_line", seen.append)
    cli.main(["huiqi", "import", "registry", "f.csv"])
    cli.main(["huiqi", "export", "registry", "f.xlsx"])
    cli.main(["huiqi", "migrate"])
    assert seen == [["huiqi", "import_data", "registry", "f.csv"], ["huiqi", "export_data", "registry", "f.xlsx"],
                    ["huiqi", "migrate"]]


def test_import_and_export_commands(tmp_path, capsys):
    # call_command, not the command line: the latter closes the database connection when it ends.
    src = tmp_path / "r.csv"
    src.write_bytes((HEADER + "91440300708461136T,深圳市命令行测试有限公司,企业,440305,C39,50,3000,2019\n").encode("gbk"))
    call_command("import_data", "registry", str(src))
    assert "stored" in capsys.readouterr().out
    assert Enterprise.objects.get(uscc="91440300708461136T").size_class == "small"
    call_command("import_data", "registry", str(src))
    assert "unchanged" in capsys.readouterr().out
    for ext in ("csv", "xlsx"):
        out = tmp_path / f"out.{ext}"
        call_command("export_data", "registry", str(out))
        rows = list(read_table(out).rows())
        assert rows[0][1][:2] == ["91440300708461136T", "深圳市命令行测试有限公司"]


def test_refused_import_exits_nonzero_and_names_report(tmp_path, capsys):
    src = tmp_path / "bad.csv"
    src.write_text(HEADER + "91440300708461136X,坏,企业,440305,C39,50,3000,2019\n", encoding="utf-8")
    with pytest.raises(CommandError) as err:
        call_command("import_data", "registry", str(src))
    assert err.value.returncode == 2
    out = capsys.readouterr().out
    assert "refused" in out and "errors.xlsx" in out
    assert not Enterprise.objects.exists()


def test_export_refuses_other_extensions(tmp_path):
    with pytest.raises(CommandError):
        call_command("export_data", "registry", str(tmp_path / "x.pdf"))


def test_createuser_with_role_and_organisation(capsys, monkeypatch):
    monkeypatch.setenv("HUIQI_NEW_PASSWORD", "Another-str0ng-pass")
    call_command("createuser", "ns_officer", "--role", "district", "--district", "440305", "--token")
    user = User.objects.get(username="ns_officer")
    assert user.role == "district" and user.district_id == "440305"
    assert "token:" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("createuser", "nodistrict", "--role", "district")
    with pytest.raises(CommandError):
        call_command("createuser", "weak", "--role", "bureau", "--password", "123")
