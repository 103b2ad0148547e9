"""The bureau's pool dashboard and a bank's page: the charts' data, each with the table it is drawn from
(the chart's accessible equivalent). A chart is {labels, series: [{name, data}], unit} for
``static/huiqi/charts.js``; amounts in 万元 as exact decimal text, never floats; names in the reader's
language; every figure read as the reader may (``selectors``)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from huiqi.core import formats

from . import selectors


def _chart(labels, series, unit: str) -> dict:
    return {"labels": [str(x) for x in labels], "unit": unit,
            "series": [{"name": str(name), "data": [str(v) for v in values]} for name, values in series]}


def dashboard(user, on: dt.date, *, expected_fen: int | None = None) -> dict:
    """The dashboard's charts and their tables at ``on``. The balance and expected claims are the bureau's
    readers' only."""
    bureau = user.has_perm("pool.view_all")
    wan = formats.in_wan
    money = selectors.money_by_month(user, on)
    series = [(_("注资"), [wan(m["top_up_fen"]) for m in money]), (_("补偿拨付"), [wan(m["payout_fen"]) for m in money]),
              (_("返还资金池"), [wan(m["returned_fen"]) for m in money])]
    if bureau:
        series.append((_("月末余额"), [wan(m["balance_fen"]) for m in money]))
    statuses = selectors.claims_by_status(user, on)
    banks = selectors.claims_by_bank(user, on)
    months = selectors.lending_by_month(user, on)
    vintages = selectors.lending_by_vintage(user, on)
    out = {
        "money": money, "chart_money": _chart([m["month"] for m in money], series, _("万元")),
        "statuses": statuses,
        "chart_statuses": _chart([s["label"] for s in statuses], [(_("补偿申请"), [s["claims"] for s in statuses])],
                                 _("笔")),
        "claim_banks": banks,
        "chart_banks": _chart([b["name"] for b in banks], [(_("补偿申请"), [b["claims"] for b in banks]),
                                                           (_("已批准"), [b["approved"] for b in banks])], _("笔")),
        "lending_months": months,
        "chart_lending_months": _chart([m["month"] for m in months],
                                       [(_("入库贷款金额"), [wan(m["principal_fen"]) for m in months])], _("万元")),
        "vintages": vintages,
        "chart_vintages": _chart([v["vintage"] for v in vintages],
                                 [(_("入库贷款金额"), [wan(v["principal_fen"]) for v in vintages])], _("万元")),
    }
    if bureau:
        expected = selectors.expected_claims_fen(user, on) if expected_fen is None else expected_fen
        balance = selectors.balance_fen(on)
        out["expected_fen"], out["balance_now_fen"] = expected, balance
        out["chart_expected"] = _chart([_("预计补偿"), _("资金池余额")], [(_("金额"), [wan(expected), wan(balance)])],
                                       _("万元"))
    return out
