"""The head of a document the platform issues (a report's PDF): the issuing office and the day of issue.

The office is data, not code: the parameter ``core.issuing_office`` ({"name", "name_en"}, dated, edited
on the parameters page like every parameter), seeded by a migration. A document issued on a day carries
the office in force that day, named in the reader's language.
"""

from __future__ import annotations

import datetime as dt

from . import clock, formats, params
from .i18n import localized

KEY = "core.issuing_office"


def issuing_office(on: dt.date | None = None) -> dict | None:
    """The office in force on ``on`` (today when omitted): {"name", "name_en"}, or None when none is set."""
    return params.value(KEY, on, default=None)


def header(on: dt.date | None = None) -> dict:
    """What a document's head shows, in the active language: {"office": name or "", "issued_on": day,
    "issued_on_text": the day written out}."""
    day = on or clock.today()
    office = issuing_office(day)
    return {"office": localized(office) if office else "", "issued_on": day,
            "issued_on_text": formats.long_date(day)}
