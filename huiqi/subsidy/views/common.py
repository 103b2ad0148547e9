"""What the interest-subsidy pages share: the permission check, labels in the page's language, amounts
for tables and charts, and files to download."""

from __future__ import annotations

from decimal import Decimal

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from huiqi.core import formats
from huiqi.core.downloads import file_download
from huiqi.core.i18n import localized
from huiqi.core.money import fen_to_yuan
from huiqi.core.tabular import write_rows
from huiqi.core.permissions import require_page as require  # noqa: F401  (the views' check)
from huiqi.lending.selectors import mask_borrower_id
from huiqi.registry import selectors as registry_selectors

from .. import rules, selectors

mask = mask_borrower_id

EXPORT_FORMATS = ("csv", "xlsx")
SIZE_LABELS = dict(registry_selectors.SIZE_CHOICES)


def reason(code: str) -> str:
    """A reason code of ``rules.REASONS`` as people read it (the code itself when unknown)."""
    return str(rules.REASONS.get(code, code))


def outcomes() -> list[tuple[str, str]]:
    """The choices of a loan line's outcome filter: counted, left out, or left out for one reason."""
    return ([("eligible", _("计入")), ("ineligible", _("不计入（全部原因）"))]
            + [(code, reason(code)) for code in rules.REASONS])


def yuan(fen):
    return fen_to_yuan(fen) if fen is not None else None


def wan_text(fen) -> str:
    """Fen as 万元 text with two decimals, for the charts (display only, never a float)."""
    return str(formats.in_wan(fen))


def factor_text(fraction_text: str) -> str:
    """'num/den' → the factor to eight places ('' when the budget was not short)."""
    if not fraction_text:
        return ""
    num, den = fraction_text.split("/")
    return f"{Decimal(num) / Decimal(den):.8f}"


def export(rows_header, rows, fmt: str, filename: str):
    if fmt not in EXPORT_FORMATS:
        raise Http404
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    header = [str(h) for h in rows_header]  # in the language of the page that asked
    return file_download(lambda path: write_rows(path, header, rows), f"{filename}-{stamp}.{fmt}")


def _district_names() -> dict[str, str]:
    rows = registry_selectors.districts().values("code", "name", "name_en")
    names = {d["code"]: localized(d) for d in rows}
    names[""] = _("区未知")
    return names


def relabel(groups: dict) -> dict:
    """District and size-class labels in the page's language (``services.compare`` gives Chinese)."""
    districts = _district_names()
    for row in groups["by_district"]:
        row["label"] = districts.get(row["key"], row["key"])
    for row in groups["by_size_class"]:
        row["label"] = str(SIZE_LABELS.get(row["key"], row["label"]))
    return groups


def chart(groups: list[dict], amount: str, series: list[tuple[str, str]]) -> dict | None:
    """Bar-chart data (labels, series of 万元 text) of grouped rows; None when there is nothing."""
    if not groups:
        return None
    return {"labels": [str(g["label"]) for g in groups], "unit": _("万元"),
            "series": [{"name": name, "data": [wan_text(g[side].get(amount, 0)) for g in groups]}
                       for side, name in series]}


def batch_or_404(request, pk):
    """The batch the reader asked for, if the reader may see it."""
    batch = selectors.batch_for(request.user, pk)
    if batch is None:
        raise Http404
    return batch
