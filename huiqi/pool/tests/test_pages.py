"""Issue 18.8: the pool's pages, role by role: the bank files a claim (guide, every error at once,
confirmation), sees only its own; the bureau reviews and a second person approves on the claim's page,
which offers each reader only the actions they may take now; the dashboard's figures in their units."""

import datetime as dt

import pytest
from django.test import Client

from huiqi.core import clock
from huiqi.pool.models import Claim
from huiqi.pool.tests.test_claims import TODAY, people  # noqa: F401  (the fixture)
from huiqi.pool import services

pytestmark = pytest.mark.django_db


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_a_bank_files_a_claim_and_the_bureau_decides_it_with_two_people(people):
    bank = _client(people["b1"])
    page = bank.get("/pool/claims/new/").content.decode()
    assert "data-guide" in page and "90 天内申请" in page and "最高 80%" in page
    # Every error at once, linked to its field, nothing saved.
    r = bank.post("/pool/claims/new/", {"loan_no": "1", "outstanding_principal": "2000000", "recovered": "3000000",
                                        "evidence": "催收记录"})
    body = r.content.decode()
    assert r.status_code == 400 and "data-error-summary" in body
    assert 'href="#id_outstanding_principal"' in body and 'href="#id_recovered"' in body
    assert not Claim.objects.exists()
    r = bank.post("/pool/claims/new/", {"loan_no": "3", "evidence": "催收记录、起诉书", "idempotency_key": "k-3"})
    claim = Claim.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/pool/claims/{claim.pk}/filed/"
    done = bank.get(r["Location"]).content.decode()
    assert f"#{claim.pk}" in done and "400,000.00" in done
    # Another bank sees none of it.
    other = _client(people["b2"])
    assert other.get(f"/pool/claims/{claim.pk}/").status_code == 404
    assert f'data-claim="{claim.pk}"' not in other.get("/pool/claims/").content.decode()
    # The bank is offered no review; the maker reviews, then may not decide; the checker decides.
    assert 'data-action-form="review"' not in bank.get(f"/pool/claims/{claim.pk}/").content.decode()
    services.top_up(people["maker"], 100_000_000)
    maker = _client(people["maker"])
    assert 'data-action-form="review"' in maker.get(f"/pool/claims/{claim.pk}/").content.decode()
    r = maker.post(f"/pool/claims/{claim.pk}/", {"action": "review", "outcome": "approve"})
    assert r.status_code == 302
    page = maker.get(f"/pool/claims/{claim.pk}/").content.decode()
    assert 'data-action-form="decide"' not in page and "data-no-actions" in page
    checker = _client(people["checker"])
    home = checker.get("/").content.decode()
    assert "待审批的补偿申请" in home
    r = checker.post(f"/pool/claims/{claim.pk}/", {"action": "decide", "agree": "yes"})
    assert r.status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.paid_fen) == ("approved", 40_000_000)
    dashboard = checker.get("/pool/").content.decode()
    assert 'data-figure="paid">40.00<' in dashboard  # 400,000.00 元 = 40.00 万元
    export = checker.get("/pool/claims/export.csv")
    assert export.status_code == 200 and b"400000.00" in b"".join(export.streaming_content)


def test_the_dashboard_in_english_has_no_chinese_labels(people):
    c = _client(people["maker"])
    c.cookies["django_language"] = "en"
    page = c.get("/pool/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Risk-compensation pool" in page and "Banks signed" in page
    assert "入库贷款" not in page


def test_the_bureau_records_a_banks_step_and_tops_the_pool_up(people):
    c = _client(people["maker"])
    r = c.post("/pool/banks/", {"bank": "B3", "kind": "onboarded", "on": "2020-10-01", "agreement_version": "2020"})
    assert r.status_code == 302
    assert 'data-bank="B3"' in c.get("/pool/banks/").content.decode()
    r = c.post("/pool/banks/", {"bank": "B3", "kind": "onboarded", "on": "2020-10-02"})
    assert r.status_code == 409 and "data-error-summary" in r.content.decode()
    r = c.post("/pool/ledger/", {"amount": "1,000,000.00", "on": "2020-10-01"})
    assert r.status_code == 302
    assert 'data-figure="balance">100.00<' in c.get("/pool/ledger/").content.decode()
    assert _client(people["b1"]).post("/pool/ledger/", {"amount": "1", "on": "2020-10-01"}).status_code == 403


def test_a_banks_system_files_a_claim_by_the_api_once_per_idempotency_key(people):
    bank = _client(people["b1"])
    body = {"loan_no": "1", "evidence": "催收记录"}
    first = bank.post("/api/v1/pool-claims/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="sys-1")
    again = bank.post("/api/v1/pool-claims/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="sys-1")
    assert first.status_code == 201 and again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and Claim.objects.count() == 1
    assert first.json()["compensation"] == "270000.00" and first.json()["ratio"] == "0.3000"
    refused = bank.post("/api/v1/pool-claims/", {"loan_no": "2", "outstanding_principal": "5000000.00"},
                        content_type="application/json")
    assert refused.status_code == 400 and "outstanding_principal" in refused.content.decode()
    other = _client(people["b2"])
    assert other.get(f"/api/v1/pool-claims/{first.json()['id']}/").status_code == 404
    assert other.get("/api/v1/pool-claims/").json()["count"] == 0
    assert _client(people["maker"]).post("/api/v1/pool-claims/", body, content_type="application/json").status_code == 403
