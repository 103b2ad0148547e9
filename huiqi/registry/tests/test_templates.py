"""The registry extract's upload template: the example row, the code lists of districts and industries
with their drop-downs, and a filled-in template that imports."""

import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from huiqi.core.i18n import EN
from huiqi.core.tabular import EXAMPLE_ROW, read_table
from huiqi.registry import services
from huiqi.registry.imports import registry_schema
from huiqi.registry.models import Enterprise

pytestmark = pytest.mark.django_db


def download(client, lang, fmt) -> bytes:
    response = client.get(f"/registry/import/template.{lang}.{fmt}")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def upload(user, data, name):
    return services.start_registry_import(user, SimpleUploadedFile(name, data))


def test_the_registry_template_lists_districts_and_industries_and_drops_them_down(client_for):
    data = download(client_for("bureau"), "zh", "xlsx")
    book = zipfile.ZipFile(io.BytesIO(data))
    strings = book.read("xl/sharedStrings.xml").decode()
    assert "<t>440305</t>" in strings and "<t>南山区</t>" in strings and "<t>C39</t>" in strings
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    lists = dict(re.findall(r'<dataValidation type="list"[^>]*sqref="([A-Z])2:[A-Z]1048576"><formula1>([^<]*)<', sheet))
    assert set(lists) == {"C", "D", "E"}  # kind, district, industry
    assert all(source.startswith("'代码表'!$") for source in lists.values())
    assert [cells for _, cells in read_table(data).rows()][0][:5] == ["91440300AY4CL12T24", "深圳市示例科技有限公司", "企业",
                                                                      "440305", "I65"]


def test_the_code_lists_are_in_the_reader_s_language(users):
    with translation.override(EN):
        districts = dict(registry_schema().column("district").code_list())
    assert districts["440305"] == "Nanshan"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_registry_template_as_it_is_is_refused_and_filled_in_imports(client_for, users, fmt):
    data = download(client_for("bureau"), "zh", fmt)
    r = upload(users["bureau"], data, f"t.{fmt}")
    assert r.status == "refused"
    [error] = services.read_error_rows(r)
    assert error["row"] == "2" and error["zh"] == str(EXAMPLE_ROW)
    if fmt == "csv":
        filled = data.replace("深圳市示例科技有限公司".encode(), "深圳市乙科技有限公司".encode())
        r = upload(users["bureau"], filled, "t.csv")
        assert r.status == "stored", services.read_error_rows(r)
        e = Enterprise.objects.get(uscc="91440300AY4CL12T24")
        assert (e.name, e.district_id, e.industry_id, e.employees) == ("深圳市乙科技有限公司", "440305", "I65", 120)
