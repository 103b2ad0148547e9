"""How figures and times are written for people (``core.formats``, ``{% load formats %}``), and where the
pages, the spreadsheets and the reports use them."""

from __future__ import annotations

import datetime as dt
import zipfile
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from huiqi.core import formats, letterhead, params

UTC_INSTANT = dt.datetime(2020, 4, 2, 6, 5, 9, tzinfo=dt.UTC)  # 14:05:09 in Beijing


# --- amounts ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("fen, shown", [
    (0, "0.00"), (1, "0.01"), (-1, "-0.01"), (-123456789, "-1,234,567.89"), (123456789, "1,234,567.89"),
    (10**17 + 1, "1,000,000,000,000,000.01"), (Decimal("0.5"), "0.01"), (Decimal("-0.4"), "0.00"),
    (None, "—"), ("", "—"),
])
def test_yuan_from_fen(fen, shown):
    assert formats.yuan(fen) == shown


def test_display_rounding_is_half_up_not_to_even():
    # Half-even would give 0.02 and 2; a person rounding by hand gives 0.03 and 3.
    assert formats.yuan(Decimal("2.5")) == "0.03"
    assert formats.number(Decimal("2.5")) == "3"
    assert formats.number(Decimal("-2.5")) == "-3"  # half away from zero
    assert formats.ROUNDING == "ROUND_HALF_UP"


@pytest.mark.parametrize("fen, wan, yi", [
    (0, "0.00", "0.00"),
    (123_456_789, "123.46", "0.01"),                    # 1,234,567.89 yuan
    (1_234_567_890_123, "1,234,567.89", "123.46"),      # 123.46 亿元
    (-5_000, "-0.01", "0.00"),  # half of 0.01 万元 rounds away from zero; no "-0.00"
    (4_999, "0.00", "0.00"),
])
def test_wan_and_yi(fen, wan, yi):
    assert formats.wan(fen) == wan
    assert formats.yi(fen) == yi


def test_a_float_is_refused_not_rounded():
    with pytest.raises(TypeError):
        formats.yuan(0.1 + 0.2)
    with pytest.raises(TypeError):
        formats.pct(12.5)


def test_counts_rates_and_signs():
    assert formats.count(1234567) == "1,234,567"
    assert formats.count(0) == "0" and formats.count(-1000) == "-1,000"
    assert formats.count(1200, signed=True) == "+1,200" and formats.count(0, signed=True) == "0"
    assert formats.pct(Decimal("12.345")) == "12.35%"
    assert formats.pct(Decimal("85"), 1) == "85.0%"
    assert formats.pct(Decimal("-1.25"), 1, signed=True) == "-1.3%"
    assert formats.rate(Decimal("0.12345")) == "12.35%"
    assert formats.rate(Decimal("0.0435"), 2) == "4.35%"
    assert formats.pct(None) == formats.rate(None) == "—"
    assert formats.in_wan(123_456_789) == Decimal("123.46")


# --- times ------------------------------------------------------------------------------------------

def test_times_are_in_beijing_time():
    assert formats.beijing(UTC_INSTANT) == "2020-04-02 14:05"
    assert formats.beijing(UTC_INSTANT, "second") == "2020-04-02 14:05:09"
    assert formats.beijing(UTC_INSTANT, "time") == "14:05"
    assert formats.beijing("2020-04-02T20:30:00+00:00") == "2020-04-03 04:30"  # the next day in Beijing
    assert formats.day(dt.datetime(2020, 4, 2, 20, 30, tzinfo=dt.UTC)) == "2020-04-03"
    assert formats.beijing(dt.date(2020, 4, 2)) == "2020-04-02"
    assert formats.beijing(None) == "—"


def test_the_project_keeps_beijing_time(settings):
    assert settings.TIME_ZONE == "Asia/Shanghai" and settings.USE_TZ


def test_a_long_date_in_each_language():
    with translation.override("zh-hans"):
        assert formats.long_date(dt.date(2020, 4, 2)) == "2020年4月2日"
    with translation.override("en"):
        assert formats.long_date(dt.date(2020, 4, 2)) == "2 April 2020"


def test_template_filters():
    html = Template(
        "{% load formats %}{{ fen|yuan }}|{{ fen|wan }}|{{ big|yi }}|{{ n|count }}|{{ p|pct:1 }}|{{ r|rate }}|"
        "{{ at|beijing }}|{{ at|beijing:'second' }}|{{ missing|yuan }}|{{ dash|count }}"
    ).render(Context({"fen": 123456789, "big": 1_234_567_890_123, "n": 98765, "p": Decimal("85.25"),
                      "r": Decimal("0.5"), "at": UTC_INSTANT, "missing": None, "dash": "—"}))
    assert html == ("1,234,567.89|123.46|123.46|98,765|85.3%|50.00%|2020-04-02 14:05|2020-04-02 14:05:09|—|—")


# --- spreadsheets -----------------------------------------------------------------------------------

def test_xlsx_amounts_carry_separators_and_csv_stays_raw(tmp_path):
    from huiqi.core.tabular import write_rows

    rows = [["A-1", Decimal("1234567.89"), 3, dt.date(2020, 4, 2)]]
    write_rows(tmp_path / "out.xlsx", ["loan", "amount", "n", "day"], rows)
    with zipfile.ZipFile(tmp_path / "out.xlsx") as z:
        styles = z.read("xl/styles.xml").decode()
    assert 'formatCode="#,##0.00"' in styles and 'formatCode="yyyy-mm-dd"' in styles
    write_rows(tmp_path / "out.csv", ["loan", "amount", "n", "day"], rows)
    assert (tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()[1] == "A-1,1234567.89,3,2020-04-02"


# --- the issuing office -----------------------------------------------------------------------------

def test_the_issuing_office_is_a_dated_parameter(db):
    # Seeded by the migration; a new name from a later day changes documents issued from that day on.
    assert letterhead.issuing_office(dt.date(2020, 4, 2)) == {
        "name": "深圳市中小企业服务局", "name_en": "Shenzhen SME Service Bureau"}
    params.set_value(None, letterhead.KEY, "core", {"name": "深圳市工业和信息化局", "name_en": "Shenzhen MIIT"},
                     dt.date(2099, 1, 1), today=dt.date(2098, 1, 1))
    with translation.override("en"):
        assert letterhead.header(dt.date(2020, 4, 2))["office"] == "Shenzhen SME Service Bureau"
        head = letterhead.header(dt.date(2099, 3, 1))
    assert head["office"] == "Shenzhen MIIT" and head["issued_on_text"] == "1 March 2099"
    with translation.override("zh-hans"):
        assert letterhead.header(dt.date(2099, 3, 1))["office"] == "深圳市工业和信息化局"


def test_the_issuing_office_needs_both_names(db):
    from huiqi.core.errors import DomainError

    with pytest.raises(DomainError):
        params.validate(letterhead.KEY, {"name": "深圳市中小企业服务局", "name_en": "  "})


# --- pages ------------------------------------------------------------------------------------------

def test_the_audit_page_shows_beijing_time(client_for):
    from huiqi.core.models import AuditEvent

    event = AuditEvent.objects.create(
        at=UTC_INSTANT, action="update", model="core.Parameter", object_id="1", object_repr="x",
        before={"decided_at": None}, after={"decided_at": "2020-04-02T06:05:09.123456+00:00"})
    for url in ("/core/audit/", f"/core/audit/{event.pk}/"):
        page = client_for("auditor").get(url).content.decode()
        assert "2020-04-02 14:05:09" in page, url  # the time of the record, and the recorded moment
        assert "06:05" not in page, url


def test_money_on_a_page_has_separators_and_its_unit(client_for, make_enterprise):
    e = make_enterprise("深圳市千万营收有限公司", revenue_wan="123456.7891", assets_wan="1234567")
    page = client_for("bureau").get(f"/registry/e/{e.uscc}/").content.decode()
    assert "营业收入（万元）</dt><dd>123,456.79</dd>" in page
    assert "资产总额（万元）</dt><dd>1,234,567.00</dd>" in page


def test_a_moment_in_a_message_is_in_beijing_time():
    from huiqi.core.i18n import Message, shown, stored

    assert str(Message("已于 %(at)s 报送", at=UTC_INSTANT)) == "已于 2020-04-02 14:05 报送"
    assert shown(stored("已于 %(at)s 报送", at=UTC_INSTANT)) == "已于 2020-04-02 14:05 报送"
