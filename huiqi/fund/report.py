"""The fund's funnel at a day (申请、决策、放款情况), in the reader's language: its content, which the page, the
workbook and the PDF share, and its PDF.

``build`` reads through the selectors, for the bureau, auditors and administrators only (``fund.report``:
the city's figures; a channel's staff and enterprises read their applications, never the funnel); the
seed's sentence is written from the figures; ``write_pdf`` renders ``fund/report_document.html``
(``core/document.html``: the issuing office and the day of issue) through ``core.pdf``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from huiqi.core import formats, letterhead, pdf
from huiqi.core.errors import PermissionDenied
from huiqi.core.i18n import pick
from huiqi.registry import selectors as registry

from . import rules, selectors


def title_for(on: dt.date) -> str:
    return _("民营企业平稳发展基金申请、决策、放款情况（截至%(day)s）") % {"day": formats.long_date(on)}


def sentence(on: dt.date, row: rules.FunnelRow) -> str:
    """The seed's sentence in the active language; in Chinese it reads as the spec's line
    (``rules.funnel_line``): "截至5月15日，累计收到709家企业的资金申请；…发放支持资金23.15亿元。"."""
    return _("截至%(day)s，累计收到%(applied)s家企业的资金申请；累计决策为%(decided)s家中小企业提供资金支持"
             "%(decided_yi)s亿元；已向%(paid)s家中小企业发放支持资金%(paid_yi)s亿元。") % {
        "day": pick(f"{on.month}月{on.day}日", formats.long_date(on)),
        "applied": formats.count(row.enterprises_applied), "decided": formats.count(row.enterprises_decided),
        "decided_yi": formats.yi(row.amount_decided_fen), "paid": formats.count(row.enterprises_disbursed),
        "paid_yi": formats.yi(row.amount_disbursed_fen)}


def build(user, on: dt.date, language: str | None = None) -> dict:
    """Everything the funnel says about ``on``, for a reader of the city's figures, in ``language`` (else
    the active one): the rows per channel (the fund last, each enterprise once), per district and per
    industry section (most applicants first), and the sentence."""
    if not user.has_perm("fund.report"):
        from django.utils.translation import gettext_lazy

        raise PermissionDenied("fund.forbidden_report", gettext_lazy("无权查看平稳发展基金的申请、决策、放款情况"))
    with translation.override(language or translation.get_language()):
        data = _build(on)
    data["language"] = language or translation.get_language()
    return data


def _grouped(groups: dict[str, rules.FunnelRow], names: dict) -> list[tuple[str, rules.FunnelRow]]:
    return sorted(((names.get(k, formats.EMPTY), r) for k, r in groups.items() if k != "*"),
                  key=lambda x: (-x[1].enterprises_applied, x[0]))


def _build(on: dt.date) -> dict:
    groups = selectors.funnel_groups(on)
    rows = selectors.funnel(on, groups=groups["channel"])
    names = {code: str(name) for code, (name, _institution) in rules.CHANNELS.items()}
    districts = {d.code: str(d) for d in registry.districts()}
    sections = {i.code: str(i) for i in registry.industries("section")}
    channels = [(names.get(r.scope, _("全部渠道")), r) for r in rows]
    by_district = _grouped(groups["district"], districts)
    by_industry = _grouped(groups["industry"], sections)
    return {
        "on": on, "title": title_for(on),
        "rows": channels, "by_district": by_district, "by_industry": by_industry,
        "line": rules.funnel_line(on, rows[-1]), "sentence": sentence(on, rows[-1]),
        "tables": [
            {"scope": "channel", "heading": _("二、按渠道"), "column": _("渠道"), "rows": channels},
            {"scope": "district", "heading": _("三、按区"), "column": _("区"), "rows": by_district},
            {"scope": "industry", "heading": _("四、按行业门类"), "column": _("行业"), "rows": by_industry},
        ],
    }


def render_html(data: dict, *, for_pdf: bool) -> str:
    """The document (the page shows the figures without it): the issuing office and the day of issue on top."""
    return render_to_string("fund/report_document.html", {**data, "letterhead": letterhead.header(),
                                                          **pdf.document_context(for_pdf=for_pdf)})


def write_pdf(data: dict, path: Path) -> Path:
    """The funnel as PDF, in the language it was built in."""
    with translation.override(data.get("language") or translation.get_language()):
        html = render_html(data, for_pdf=True)
    return pdf.write(html, path)
