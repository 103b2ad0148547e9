"""The PDF report's system parts: the run command names what is missing and how to install it."""

import builtins

from django.core.management import call_command

from huiqi.core import pdf as report


def test_a_missing_cjk_font_is_named_with_its_package(monkeypatch):
    monkeypatch.setattr(report, "cjk_font", lambda: (None, None))
    monkeypatch.setattr("shutil.which", lambda name: None)
    missing = report.missing_system_parts()
    assert any("fonts-noto-cjk" in text for text in missing)


def test_pango_that_cannot_load_is_named_with_its_packages(monkeypatch):
    real_import = builtins.__import__

    def no_pango(name, *args, **kwargs):
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pango)
    monkeypatch.setattr(report, "cjk_font", lambda: ("/fonts/cjk.ttc", "/fonts/cjk.ttc"))
    assert report.missing_system_parts() == [
        "Pango, which WeasyPrint draws the PDF report with, cannot be loaded (cannot load library "
        "'libpango-1.0-0'); on Debian or Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0"]


def test_the_check_command_prints_each_missing_part(monkeypatch, capsys):
    monkeypatch.setattr(report, "missing_system_parts", lambda: ["no Chinese (CJK) font is installed"])
    call_command("check", "--deploy", "--tag", "huiqi_system", "--fail-level", "CRITICAL")
    assert "huiqi.W001) no Chinese (CJK) font is installed" in capsys.readouterr().err


def test_nothing_is_said_when_every_part_is_there(monkeypatch, capsys):
    monkeypatch.setattr(report, "missing_system_parts", lambda: [])
    call_command("check", "--deploy", "--tag", "huiqi_system")
    assert "huiqi.W00" not in capsys.readouterr().err
