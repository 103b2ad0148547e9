"""The pool's report at a day (风险补偿资金池运行情况), in the reader's language: its content, its page, its
workbook and its PDF.

``build`` reads through the selectors (a bank's staff get their bank's figures); the seed's sentence is
written from the figures; ``write_pdf`` renders ``pool/report_document.html`` (``core/document.html``: the
issuing office and the day of issue) through ``core.pdf``; ``sheets`` are the workbook's tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from huiqi.core import formats, letterhead, pdf
from huiqi.core.i18n import pick

from . import selectors

COUNT_PER_WAN = 10_000


def title_for(on: dt.date, bank_name: str | None = None) -> str:
    if bank_name:
        return _("%(bank)s风险补偿情况（截至%(day)s）") % {"bank": bank_name, "day": formats.long_date(on)}
    return _("中小微企业银行贷款风险补偿资金池运行情况（截至%(day)s）") % {"day": formats.long_date(on)}


def _large_count(n: int) -> str:
    """A city-scale count as each language writes it: in 万 with one decimal in Chinese (22.6万, as the seed),
    whole with separators in English (226,000)."""
    return pick(formats.number(formats.as_decimal(n) / COUNT_PER_WAN, 1) + "万", formats.count(n))


def summary(f: dict, liability_fen: int, expected_fen: int, warning: bool, warning_share, *, bank: bool) -> list[str]:
    """The seed's sentences, written from the figures ("截至2020年4月30日，共实现了42家银行签约加盟…")."""
    values = {
        "day": formats.long_date(f["on"]), "signed": formats.count(f["banks_signed"]),
        "onboarded": formats.count(f["banks_onboarded"]), "loans": formats.count(f["loans"]),
        "loans_large": _large_count(f["loans"]), "principal_yi": formats.yi(f["principal_fen"]),
        "borrowers": formats.count(f["borrowers"]), "borrowers_large": _large_count(f["borrowers"]),
        "claims": formats.count(f["claims"]), "completed": formats.count(f["completed"]),
        "paid_wan": formats.wan(f["paid_fen"]), "benefited": formats.count(f["banks_benefited"]),
        "times": formats.count(f["bank_times"]), "leveraged_yi": formats.yi(f["leveraged_fen"]),
    }
    out = []
    if bank:
        out.append(_("截至%(day)s，本行线上入库贷款项目%(loans)s个，贷款总额%(principal_yi)s亿元，涵盖中小微企业%(borrowers)s家。"
                     "不良贷款风险补偿项目%(claims)s个，已完成补偿项目%(completed)s个，补偿金额总计%(paid_wan)s万元。")
                   % values)
    else:
        out.append(_("截至%(day)s，共实现了%(signed)s家银行签约加盟，资金池管理系统中已入库加盟银行%(onboarded)s家，"
                     "线上入库贷款项目%(loans_large)s个，贷款总额%(principal_yi)s亿元，涵盖我市中小微企业约%(borrowers_large)s家。"
                     "不良贷款风险补偿项目%(claims)s个，已完成补偿项目%(completed)s个，补偿金额总计%(paid_wan)s万元，"
                     "惠及%(times)s家（次）银行，撬动贷款总额%(leveraged_yi)s亿元。") % values)
    ratio = formats.rate(f["realised_ratio"]) if f["realised_ratio"] is not None else formats.EMPTY
    out.append(_("实际补偿比例（补偿金额÷损失）为%(ratio)s；正常入库贷款的或有负债%(liability)s万元，预计补偿%(expected)s万元。")
               % {"ratio": ratio, "liability": formats.wan(liability_fen), "expected": formats.wan(expected_fen)})
    if f["balance_fen"] is not None:
        out.append(_("资金池余额%(balance)s万元。") % {"balance": formats.wan(f["balance_fen"])})
    if warning:
        out.append(warning_text(expected_fen, f["balance_fen"], warning_share))
    return out


def warning_text(expected_fen: int, balance_fen: int, share) -> str:
    return _("预计补偿 %(expected)s 万元已达资金池余额 %(balance)s 万元的 %(share)s，请安排补充资金。") % {
        "expected": formats.wan(expected_fen), "balance": formats.wan(balance_fen), "share": formats.rate(share)}


def build(user, on: dt.date, language: str | None = None) -> dict:
    """Everything the report says about ``on`` as ``user`` may read it, in ``language`` (else the active one)."""
    with translation.override(language or translation.get_language()):
        data = _build(user, on)
    data["language"] = language or translation.get_language()
    return data


def _build(user, on: dt.date) -> dict:
    figures = selectors.figures(user, on)
    liability = selectors.contingent_liability(user, on)
    expected = selectors.expected_claims_fen(user, on)
    params = selectors.params_on(on)
    balance = figures["balance_fen"]
    warning = balance is not None and expected >= balance * params.warning_share
    is_bank = not user.has_perm("pool.view_all")
    bank = getattr(user, "bank", None) if is_bank else None
    return {
        "on": on, "day": on, "figures": figures, "liability": liability, "expected_fen": expected,
        "warning": warning, "warning_share": params.warning_share,
        "warning_text": warning_text(expected, balance, params.warning_share) if warning else "",
        "scorecard": selectors.scorecard(user, on), "suspension_npl_rate": params.suspension_npl_rate,
        "title": title_for(on, bank.name if bank is not None else None), "is_bank": is_bank,
        "summary": summary(figures, liability["total_fen"], expected, warning, params.warning_share, bank=is_bank),
        "letterhead": letterhead.header(),
    }


def render_html(data: dict, *, for_pdf: bool) -> str:
    return render_to_string("pool/report_document.html", {**data, **pdf.document_context(for_pdf=for_pdf)})


def write_pdf(data: dict, path: Path) -> Path:
    """The report as PDF, in the language it was built in."""
    with translation.override(data.get("language") or translation.get_language()):
        html = render_html(data, for_pdf=True)
    return pdf.write(html, path)


def _rate(value):
    return formats.rate(value) if value is not None else ""


def sheets(data: dict) -> list[tuple[str, list[str], list[list]]]:
    """The report's tables as a workbook's sheets (name, header, rows), in the active language: amounts in
    万元 and 亿元 as numbers, with the unit in the heading."""
    f, liability = data["figures"], data["liability"]
    wan = formats.in_wan
    rows = [
        [_("统计日期"), data["on"]], [_("签约银行（家）"), f["banks_signed"]], [_("入库银行（家）"), f["banks_onboarded"]],
        [_("入库贷款（笔）"), f["loans"]], [_("入库贷款金额（亿元）"), _yi(f["principal_fen"])],
        [_("涉及企业（户）"), f["borrowers"]], [_("补偿申请（笔）"), f["claims"]], [_("已办结（笔）"), f["completed"]],
        [_("已拨付补偿（万元）"), wan(f["paid_fen"])], [_("已返还资金池（万元）"), wan(f["returned_fen"])],
        [_("受益银行（家）"), f["banks_benefited"]], [_("受益银行（次）"), f["bank_times"]],
        [_("撬动贷款（亿元）"), _yi(f["leveraged_fen"])],
        [_("实际补偿比例"), _rate(f["realised_ratio"])],
        [_("或有负债（万元）"), wan(liability["total_fen"])], [_("预计补偿（万元）"), wan(data["expected_fen"])],
    ]
    if f["balance_fen"] is not None:
        rows.append([_("资金池余额（万元）"), wan(f["balance_fen"])])
    rows.append([_("预警"), data["warning_text"] or _("无")])
    rows += [[_("说明"), text] for text in data["summary"]]
    out = [(_("主要数据"), [_("项目"), _("数值")], rows)]
    out.append((_("或有负债（按银行）"), [_("银行代码"), _("银行"), _("正常入库贷款（笔）"), _("未偿本金（万元）"),
                                        _("或有负债（万元）")],
                [[b["bank_code"], b["name"], b["loans"], wan(b["outstanding_fen"]), wan(b["liability_fen"])]
                 for b in liability["by_bank"]]))
    out.append((_("或有负债（按放款年度）"), [_("放款年度"), _("正常入库贷款（笔）"), _("未偿本金（万元）"), _("或有负债（万元）")],
                [[v["vintage"], v["loans"], wan(v["outstanding_fen"]), wan(v["liability_fen"])]
                 for v in liability["by_vintage"]]))
    out.append((_("银行评价"), [_("银行代码"), _("银行"), _("入库贷款（笔）"), _("不良贷款（笔）"), _("不良率"), _("补偿申请（笔）"),
                             _("批准率"), _("不良至申请（天）"), _("申请至拨付（天）"), _("追偿返还率"), _("建议")],
                [[s["bank"].code, s["bank"].name, s["registered"], s["npls"], _rate(s["npl_rate"]), s["claims"],
                  _rate(s["approval_rate"]), s["days_to_claim"], s["days_to_pay"], _rate(s["recovery_rate"]),
                  _("建议暂停") if s["propose_suspension"] else ""] for s in data["scorecard"]]))
    return out


def _yi(fen: int) -> Decimal:
    """Fen as a number of 亿元, half up to two places (a workbook's value)."""
    return (formats.as_decimal(fen) / formats.FEN_PER_YI).quantize(Decimal("0.01"), rounding=formats.ROUNDING)
