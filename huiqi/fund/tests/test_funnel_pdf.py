"""Issue 19.7: the funnel at a day as a PDF (a background job, ``core.pdf`` and ``core/document.html``: the
issuing office, the day of issue, the reader's language), the seed's sentence and the tables per channel,
district and industry written from the data; only the city's readers (the bureau, auditors, administrators)
make one, and each downloads only their own."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.test import Client

from conftest import PASSWORD
from huiqi.core import jobs
from huiqi.core.identifiers import generate_uscc
from huiqi.core.models import Job
from huiqi.fund import report, rules, selectors, services
from huiqi.fund.jobs import REPORT_KIND
from huiqi.fund.models import Application, Tranche

D = dt.date
ON = D(2020, 5, 15)
WAN = 1_000_000  # fen in 1 万元
SEED = ("截至5月15日，累计收到709家企业的资金申请；累计决策为190家中小企业提供资金支持25.99亿元；"
        "已向179家中小企业发放支持资金23.15亿元。")


@pytest.fixture
def seed_city(fund_world):
    """The seed's figures at 2020-05-15, written straight into the tables (the demo makes them through the
    services, which takes minutes): 709 enterprises applied (one of them at both channels), 190 decided for
    25.99 亿元, 179 paid 23.15 亿元; an application received and a tranche paid after the day are not counted."""
    from huiqi.registry.models import District, Enterprise, FundInstitution

    rng = random.Random(19)
    districts = list(District.objects.values_list("code", flat=True)[:3])
    ents = [Enterprise(uscc=generate_uscc(rng), name=f"深圳市漏斗{i}有限公司", kind="enterprise",
                       district_id=districts[i % len(districts)], industry_id="C39" if i % 3 else "F51",
                       size_class="small", ownership="private") for i in range(710)]
    Enterprise.objects.bulk_create(ents)
    ents = list(Enterprise.objects.filter(name__startswith="深圳市漏斗").order_by("id"))
    institutions = {c: FundInstitution.objects.get(code=code) for c, (_n, code) in rules.CHANNELS.items()}
    apps, tranches = [], []
    for i, e in enumerate(ents[:709]):
        channel = "hti" if i % 2 else "sgg"
        received = D(2020, 2, 10) + dt.timedelta(days=i % 90)
        approved = (14_200 if i == 189 else 1_300) * WAN if i < 190 else None
        paid = (100 if i == 178 else 1_300) * WAN if i < 179 else 0
        late = 1_000 * WAN if i == 185 else 0  # paid on 05-20: not counted
        apps.append(Application(
            number=f"{channel.upper()}-{i + 1:06d}", uscc=e.uscc, enterprise=e, channel=channel,
            institution=institutions[channel], requested_fen=approved or 500 * WAN, term_months=12,
            received_date=received, impact="订单减少", state="disbursed" if paid else "contracted" if approved
            else "due_diligence", approved_fen=approved, rate=rules.Decimal("0.042") if approved else None,
            decided_on=received + dt.timedelta(days=3) if approved else None, disbursed_fen=paid or late))
    # The first enterprise also applied at the other channel (withdrawn), one more after the day.
    apps.append(Application(number="HTI-900001", uscc=ents[0].uscc, enterprise=ents[0], channel="hti",
                            institution=institutions["hti"], requested_fen=500 * WAN, term_months=12,
                            received_date=D(2020, 3, 1), impact="x", state="withdrawn"))
    apps.append(Application(number="SGG-900002", uscc=ents[709].uscc, enterprise=ents[709], channel="sgg",
                            institution=institutions["sgg"], requested_fen=500 * WAN, term_months=12,
                            received_date=D(2020, 5, 20), impact="x", state="received"))
    Application.objects.bulk_create(apps)
    for a in Application.objects.filter(disbursed_fen__gt=0):
        day = D(2020, 5, 20) if a.number.endswith("000186") else a.decided_on + dt.timedelta(days=1)
        tranches.append(Tranche(application=a, day=day, amount_fen=a.disbursed_fen))
    Tranche.objects.bulk_create(tranches)
    services.rebuild_funnel()  # written around the services: their roll-up is made once here
    return fund_world


def _client(user, language=None):
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    if language:
        c.cookies["django_language"] = language
    return c


def _pdf_text(response, tmp_path) -> str:
    from pypdf import PdfReader

    path = tmp_path / "funnel.pdf"
    path.write_bytes(b"".join(response.streaming_content))
    return "".join(p.extract_text() for p in PdfReader(str(path)).pages).replace("\n", "").replace(" ", "")


def _made(client, tmp_path, on=ON) -> tuple[Job, str]:
    r = client.post("/fund/", {"on": on.isoformat()})
    job = Job.objects.filter(kind=REPORT_KIND).latest("id")
    assert r.status_code == 302 and r["Location"] == f"/core/jobs/{job.pk}/"
    assert jobs.run_pending() == 1
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    return job, _pdf_text(client.get(job.result["link"]), tmp_path)


def test_the_seeds_figures_come_from_the_data(seed_city):
    data = report.build(seed_city.bureau, ON, "zh-hans")
    assert data["line"] == SEED and data["sentence"] == SEED
    channels = {name: r for name, r in data["rows"]}
    assert channels["高新投"].enterprises_applied == 354 + 1 and channels["担保集团"].enterprises_applied == 355
    assert channels["全部渠道"].enterprises_applied == 709  # the enterprise at both channels counted once
    assert sum(r.enterprises_applied for _n, r in data["by_district"]) == 709
    assert sum(r.amount_disbursed_fen for _n, r in data["by_industry"]) == 231_500 * WAN


def test_the_pdf_is_made_in_a_job_with_the_sentence_and_the_tables(seed_city, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    c = _client(seed_city.bureau)
    job, text = _made(c, tmp_path)
    assert job.params == {"on": "2020-05-15", "language": "zh-hans"}
    assert SEED in text, text[:400]
    assert "民营企业平稳发展基金申请、决策、放款情况（截至2020年5月15日）" in text
    for heading in ("二、按渠道", "三、按区", "四、按行业门类", "高新投", "担保集团", "全部渠道", "福田区"):
        assert heading in text, heading
    # 全部渠道: 709 applied, 190 decided for 259,900.00 万元, 179 paid 231,500.00 万元.
    assert "全部渠道709190259,900.00179231,500.00" in text
    assert f"/fund/funnel/{job.pk}.pdf" in c.get("/fund/").content.decode()


def test_the_pdf_reads_in_the_readers_language(seed_city, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    _job, text = _made(_client(seed_city.bureau, "en"), tmp_path)
    assert "Asof15May2020,709enterpriseshadappliedforfunds" in text, text[:400]
    for figure in ("190", "25.99", "179", "23.15", "2.Bychannel", "Futian"):
        assert figure in text, figure
    assert "累计收到" not in text and "按渠道" not in text


def test_only_the_city_makes_it_and_each_downloads_their_own(seed_city, settings, tmp_path):
    from huiqi.accounts.services import create_user
    from huiqi.core.errors import PermissionDenied

    settings.MEDIA_ROOT = tmp_path
    auditor = create_user(None, username="fund_auditor", password=PASSWORD, role="auditor", check_password=False)
    job, _text = _made(_client(seed_city.bureau), tmp_path)
    link = job.result["link"]
    hti = _client(seed_city.staff["hti"][0])
    # A channel's staff read their own applications, never the city's funnel: no PDF, no download.
    assert hti.post("/fund/", {"on": ON.isoformat()}).status_code == 403
    assert hti.get(link).status_code == 403
    assert "data-form=\"funnel-pdf\"" not in hti.get("/fund/").content.decode()
    assert _client(seed_city.enterprise_user).post("/fund/", {"on": ON.isoformat()}).status_code == 403
    # Another city reader does not learn that the bureau's PDF exists; their own is theirs.
    assert _client(auditor).get(link).status_code == 404
    assert Job.objects.filter(kind=REPORT_KIND).count() == 1
    # A job queued for someone who may not read the funnel fails and writes nothing.
    with pytest.raises(PermissionDenied):
        report.build(seed_city.staff["hti"][0], ON)
    forged = jobs.enqueue(REPORT_KIND, {"on": ON.isoformat()}, user=seed_city.staff["sgg"][0])
    jobs.run_pending()
    forged.refresh_from_db()
    assert forged.status == "failed" and not (tmp_path / "fund" / "reports" / f"funnel-{forged.pk}.pdf").exists()
    assert selectors.funnel_jobs_for(seed_city.staff["sgg"][0], done=True).count() == 0


def test_the_document_carries_the_issuing_office_and_the_day_of_issue(fund_world):
    from huiqi.core import clock

    with clock.fixed(D(2020, 5, 16)):
        html = report.render_html(report.build(fund_world.bureau, ON, "zh-hans"), for_pdf=True)
    assert "<!doctype html>" in html and 'data-issued-on="2020-05-16"' in html and "发布日期：2020年5月16日" in html
    assert "民营企业平稳发展基金申请、决策、放款情况（截至2020年5月15日）" in html
    assert "截至5月15日，累计收到0家企业的资金申请" in html  # nothing yet: the sentence still reads
