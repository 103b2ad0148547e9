"""The demo's five-tier classifications (五级分类): each non-performing loan of the demo ledger reported
正常 at the last quarter's end at least a month before its NPL date, and 次级 on its NPL date, so that the
history gives the NPL date the claims were filed with."""

from __future__ import annotations

import datetime as dt

from huiqi.core import formats


def _quarter_end_before(day: dt.date) -> dt.date:
    """The last quarter's end strictly before ``day``."""
    for month, last in ((12, 31), (9, 30), (6, 30), (3, 31)):
        end = dt.date(day.year, month, last)
        if end < day:
            return end
    return dt.date(day.year - 1, 12, 31)


def build(scale, seed, progress=None) -> str:
    """Report the demo's classifications through ``services.store_classifications`` (again: nothing
    changes)."""
    from huiqi.lending import selectors as lending

    from . import services

    rows = []
    held = lending.non_performing().filter(loan__registered_date__isnull=False).values_list(
        "loan_id", "loan__start_date", "npl_date")
    for loan_id, start, npl_date in held.iterator(chunk_size=5000):
        performing = _quarter_end_before(npl_date - dt.timedelta(days=30))
        if performing > start:
            rows.append({"loan_id": loan_id, "on": performing, "tier": "normal"})
        rows.append({"loan_id": loan_id, "on": npl_date, "tier": "substandard"})
    created, updated = services.store_classifications(None, rows)
    return (f"演示五级分类已生成 demo five-tier classifications: {formats.count(created)} 条 rows "
            f"({formats.count(updated)} 更正 corrected)")
