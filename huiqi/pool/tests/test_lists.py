"""Issue 18.8: every list of the pool filters by the URL, searches, pages and exports what it shows, each
reader their own; a bank's page shows its loans, why any was screened out, its claims with what was paid
and returned."""

import csv
import io

import pytest
from django.test import Client

from huiqi.pool.tests.test_claims import TODAY, people  # noqa: F401  (the fixture)
from huiqi.pool.tests.test_report_pdf import _paid_claim

pytestmark = pytest.mark.django_db


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_the_registered_loans_filter_search_and_export_as_each_reader_may(people):
    bureau, b1 = _client(people["maker"]), _client(people["b1"])
    page = bureau.get("/pool/loans/").content.decode()
    assert all(f'data-loan="{n}"' in page for n in "1234567")
    screened = bureau.get("/pool/loans/", {"outcome": "screened"}).content.decode()
    assert 'data-reason="borrower_large"' in screened and 'data-reason="bank_not_onboarded"' in screened
    assert 'data-loan="1"' not in screened and "贷款须在扩围日期当日或以后放款" in screened
    assert 'data-loan="6"' in bureau.get("/pool/loans/", {"bank": "B2"}).content.decode()
    only = bureau.get("/pool/loans/", {"q": "丁便利店"}).content.decode()
    assert 'data-loan="4"' in only and 'data-loan="5"' in only and 'data-loan="1"' not in only
    rows = _csv(bureau.get("/pool/loans/export.csv", {"outcome": "covered"}))
    assert rows[0][:2] == ["银行", "贷款合同编号"] and sorted(r[1] for r in rows[1:]) == ["1", "2", "3", "5"]
    # A bank's staff read their own bank's loans, whatever the URL asks.
    mine = b1.get("/pool/loans/", {"bank": "B2"}).content.decode()
    assert 'data-loan="6"' not in mine
    assert sorted(r[1] for r in _csv(b1.get("/pool/loans/export.csv"))[1:]) == ["1", "2", "3", "4", "5"]
    assert _client(people["b2"]).get("/pool/loans/export.xlsx").status_code == 200
    assert bureau.get("/pool/loans/export.pdf").status_code == 404


def test_the_ledger_filters_and_exports_each_readers_entries(people):
    _paid_claim(people)
    bureau = _client(people["maker"])
    page = bureau.get("/pool/ledger/", {"kind": "payout"}).content.decode()
    assert 'data-kind="payout"' in page and 'data-kind="top_up"' not in page
    rows = _csv(bureau.get("/pool/ledger/export.csv"))
    assert [r[2] for r in rows[1:]] == ["300000.00", "-270000.00"]
    assert len(_csv(bureau.get("/pool/ledger/export.csv", {"from": TODAY.isoformat()}))) == 2
    assert [r[5] for r in _csv(bureau.get("/pool/ledger/export.csv", {"q": "1"}))[1:]] == ["1"]
    # The bank sees what it was paid, not the pool's top-ups; another bank nothing.
    assert [r[2] for r in _csv(_client(people["b1"]).get("/pool/ledger/export.csv"))[1:]] == ["-270000.00"]
    assert _csv(_client(people["b2"]).get("/pool/ledger/export.csv"))[1:] == []


def test_the_banks_and_the_scorecard_filter_and_export(people):
    bureau = _client(people["maker"])
    page = bureau.get("/pool/banks/", {"state": "signed"}).content.decode()
    assert 'data-bank="B3"' in page and 'data-bank="B1"' not in page
    assert 'data-bank="B2"' in bureau.get("/pool/banks/", {"q": "乙银行"}).content.decode()
    rows = _csv(bureau.get("/pool/banks/export.csv", {"state": "onboarded"}))
    assert [r[0] for r in rows[1:]] == ["B1", "B2"]
    assert [r[0] for r in _csv(_client(people["b2"]).get("/pool/banks/export.csv"))[1:]] == ["B2"]
    cards = _csv(bureau.get("/pool/scorecard/export.csv", {"on": TODAY.isoformat(), "suspend": "1"}))
    assert [r[0] for r in cards[1:]] == ["B1"] and cards[1][-1] == "Y"
    assert [r[0] for r in _csv(_client(people["b2"]).get("/pool/scorecard/export.csv"))[1:]] == ["B2"]


def test_a_banks_page_shows_its_loans_its_claims_why_and_what_was_paid(people):
    _paid_claim(people)
    from huiqi.pool import services
    from huiqi.pool.services import ClaimInput

    refused = services.file_claim(people["b1"], ClaimInput("B1", "4"))  # an individual business before 03-01
    page = _client(people["b1"]).get("/pool/").content.decode()
    assert "data-bank-loans" in page and "已纳入资金池 4 笔，未纳入 1 笔" in page
    assert f'data-claim="{refused.pk}"' in page and 'data-reason="borrower_kind_not_covered_yet"' in page
    assert "270,000.00" in page
    other = _client(people["b2"]).get("/pool/").content.decode()
    assert "270,000.00" not in other and "已纳入资金池 0 笔，未纳入 1 笔" in other
