"""One translation mechanism: gettext msgids in Chinese, English in each app's catalogue; errors, stored
messages and reference data shown in the reader's language."""

from __future__ import annotations

import shutil

import pytest
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy

from huiqi.core import i18n
from huiqi.core.errors import DomainError, InvalidFields, ValidationFailed

# Messages of core's own catalogue, so that their English is there.
REQUIRED = gettext_lazy("必填项为空")
AT_LEAST = gettext_lazy("不能小于 %(lo)s")


def test_an_error_is_said_in_the_language_of_whoever_reads_it():
    error = ValidationFailed("x.low", AT_LEAST, field="amount", value="-1", lo=0)
    assert error.message == "不能小于 0"
    with translation.override("en"):
        assert error.message == "must be at least 0"
        body = error.as_dict()
    assert body == {"code": "x.low", "message": "must be at least 0", "message_zh": "不能小于 0",
                    "message_en": "must be at least 0", "field": "amount"}
    assert (error.zh, error.en) == ("不能小于 0", "must be at least 0")
    assert error.in_both_languages == "不能小于 0（must be at least 0）"


def test_the_former_three_text_form_fails_at_once():
    """Field and value are keywords: a raise left in the (code, zh, en) form cannot pass for one."""
    with pytest.raises(TypeError):
        DomainError("x.bad", "数据有误", "bad data")


def test_several_errors_are_joined_in_the_language_of_the_reader():
    errors = InvalidFields([ValidationFailed("a", REQUIRED, field="a"),
                            ValidationFailed("b", AT_LEAST, field="b", lo=5)])
    assert errors.message == "必填项为空；不能小于 5"
    with translation.override("en"):
        assert errors.message == "required value is missing; must be at least 5"
    assert [d["field"] for d in errors.as_dict()["details"]] == ["a", "b"]


def test_a_literal_percent_is_kept_when_there_are_no_params():
    assert i18n.render("复工率 100%") == "复工率 100%"
    assert i18n.render("%(n)s%%", {"n": 5}) == "5%"


def test_messages_and_lists_render_when_shown():
    parts = i18n.Joined([i18n.Message(REQUIRED), i18n.Message(AT_LEAST, lo=1)])
    message = i18n.Message(gettext_lazy("%(name)s：%(value)s"), name="x", value=parts)
    assert str(message) == "x：必填项为空；不能小于 1"
    with translation.override("en"):
        assert str(message) == "x: required value is missing; must be at least 1"
    assert str(i18n.Either("中文", "English")) == "中文"


def test_a_stored_message_is_translated_when_it_is_read():
    text = i18n.stored(gettext_lazy("文件有 %(rows)s 行错误（共 %(errors)s 处），整个文件未入库。"), rows="1,200",
                       errors=i18n.Either("三", "three"))
    assert "文件有" in text  # the msgid is kept, not a translation
    assert i18n.shown(text) == "文件有 1,200 行错误（共 三 处），整个文件未入库。"
    with translation.override("en"):
        assert i18n.shown(text) == "The file has errors in 1,200 rows (three in all); nothing was stored."
    # Text written before (or typed by a person) is shown as it is.
    assert i18n.shown("已入库。Stored.") == "已入库。Stored."
    assert i18n.shown("") == ""


def test_a_stored_error_keeps_its_params():
    error = ValidationFailed("x.low", AT_LEAST, lo=3)
    with translation.override("en"):
        assert i18n.shown(i18n.stored_error(error)) == "must be at least 3"


class _Row:
    def __init__(self, name, name_en):
        self.name, self.name_en = name, name_en


def test_reference_data_is_named_in_the_language_of_the_reader():
    nanshan = _Row("南山区", "Nanshan")
    assert i18n.localized(nanshan) == "南山区"
    with translation.override("en"):
        assert i18n.localized(nanshan) == "Nanshan"
        assert i18n.localized({"name": "南山区", "name_en": "Nanshan"}) == "Nanshan"
        assert i18n.localized(_Row("某局", "")) == "某局"  # no English name yet: the Chinese one
        assert str(i18n.both_names(nanshan)) == "Nanshan"


def test_django_s_own_chinese_keeps_the_project_s_correction():
    with translation.override("zh-hans"):
        assert gettext("Null characters are not allowed.") == "不能含有空字符（NUL）。"


def test_choice_labels_are_one_language_each():
    from huiqi.subsidy.models import BatchStatus

    assert str(BatchStatus.RELEASED.label) == "已拨付"
    with translation.override("en"):
        assert str(BatchStatus.RELEASED.label) == "Released"


@pytest.mark.django_db
def test_the_api_answers_in_the_language_of_the_requester(client, settings):
    settings.HUIQI_MAX_UPLOAD_BYTES = 1024
    big = b"x" * 2048
    body = client.post("/api/v1/ledger-uploads/", data=big, content_type="application/octet-stream").json()
    assert body["error"]["message"] == body["error"]["message_zh"] and "上限" in body["error"]["message"]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = client.post("/api/v1/ledger-uploads/", data=big, content_type="application/octet-stream").json()
    assert body["error"]["message"] == body["error"]["message_en"] and "limit" in body["error"]["message"]


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_every_catalogue_is_up_to_date_and_complete():
    """Each app's catalogue has every string of its code, each with its English, and nothing else:
    ``huiqi messages`` brings them up to date (docs/translation.md)."""
    call_command("messages", "--check")
