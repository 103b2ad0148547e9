"""Issue 18.3: the pool's ratio and cap table as data, edited on the parameters page as a table of typed
cells (no JSON box), every bad cell named at once, a change of it approved by a second person."""

import datetime as dt
import re

import pytest

from huiqi.core import clock, parameter_changes, params
from huiqi.core.models import ParameterProposal
from huiqi.pool import rules

pytestmark = pytest.mark.django_db
URL = "/core/parameters/pool.params/"


@pytest.fixture
def bureau2(users):
    from huiqi.accounts.services import create_user

    return create_user(None, username="bureau2", password="x-Long-enough-9", role="bureau", check_password=False)


def _posted(page: str) -> dict:
    """What the page's form posts as it stands: every input's value and every select's chosen option."""
    data = {m[0]: m[1] for m in re.findall(r'<input type="(?:text|date|number)" name="([^"]+)" value="([^"]*)"', page)}
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        data[name] = chosen[1] if chosen else ""
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page):
        data.setdefault(name, value)
    data.pop("csrfmiddlewaretoken", None)
    return {k: v for k, v in data.items() if v != ""}


def test_the_ratio_table_is_a_table_of_cells_and_a_row_added_waits_for_a_second_person(users, client_for, bureau2):
    maker = client_for("bureau")
    page = maker.get(URL).content.decode()
    assert 'class="rows-input"' in page and "<textarea" not in page
    assert str(rules.PARAMETER_LABELS["extra_rows"]) in page and "放款日期起" in page
    tomorrow = clock.today() + dt.timedelta(days=1)
    data = {**_posted(page), "effective_from": tomorrow.isoformat(), "extra_rows-0-name": "科技信用贷",
            "extra_rows-0-condition": "credit", "extra_rows-0-ratio": "0.6",
            "extra_rows-0-start": "2020-07-01", "extra_rows-0-end": "2020-12-31"}
    preview = maker.post(URL, data).content.decode()
    assert "data-needs-approval" in preview, preview[:3000]
    assert maker.post(URL, {**data, "confirm": "1", "note": "加一行"}).status_code == 302
    proposal = ParameterProposal.objects.get(key="pool.params")
    assert params.value("pool.params", on=tomorrow)["extra_rows"] == []
    parameter_changes.approve(bureau2, proposal.pk)
    stored = params.value("pool.params", on=tomorrow)
    assert stored["extra_rows"] == [{"name": "科技信用贷", "condition": "credit", "ratio": "0.6",
                                     "start": "2020-07-01", "end": "2020-12-31"}]
    p = rules.Params.from_mapping(stored)
    assert p.rows()[-1] == rules.RatioRow("科技信用贷", "credit", rules.Decimal("0.6"), dt.date(2020, 7, 1),
                                          dt.date(2020, 12, 31))
    # The page shows the table in force, a row per row.
    again = maker.get(URL).content.decode()
    assert 'name="extra_rows-0-name" value="科技信用贷"' not in again  # today's value: not yet in force
    assert "科技信用贷" in again  # but in the history


def test_every_bad_cell_and_field_is_named_and_nothing_is_saved(users, client_for):
    c = client_for("bureau")
    page = c.get(URL).content.decode()
    data = {**_posted(page), "effective_from": clock.today().isoformat(), "max_principal": "-5",
            "extra_rows-0-name": "坏行", "extra_rows-0-condition": "credit", "extra_rows-0-ratio": "1.5",
            "extra_rows-1-ratio": "0.2", "confirm": "1"}
    r = c.post(URL, data).content.decode()
    summary = re.search(r"data-error-summary.*?</div>", r, re.S)[0]
    assert summary.count("<li") >= 4, summary  # the bad ratio, two missing cells of row 2, the bad maximum
    assert "补偿比例" in r and "第 2 行" in r  # the second row's missing name and condition
    assert "单笔贷款金额上限" in r
    assert not ParameterProposal.objects.filter(key="pool.params").exists()
    # Once every field passes, a rule across fields is named at its field.
    data = {**_posted(page), "effective_from": clock.today().isoformat(), "window_ratio": "0.9", "confirm": "1"}
    assert "疫情期间新增贷款补偿比例 高于" in c.post(URL, data).content.decode()
    assert params.value("pool.params")["window_ratio"] == "0.80"
