"""Return-to-work fixtures: filing required (as before 2020-02-20) from today, a filing's data, files."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def filing_required(db):
    """The bureau switches filing back on from today (the tests run long after 2020-02-20)."""
    from huiqi.core import params
    from huiqi.resumption.apps import FILING_REQUIRED_KEY

    params.set_value(None, FILING_REQUIRED_KEY, "resumption", True, timezone.localdate(), note="tests")


def filing_data(**kw):
    data = {"planned_date": timezone.localdate() + dt.timedelta(days=2), "staff_total": 120,
            "staff_returning": 80, "staff_from_outside": 20, "staff_in_quarantine": 5, "masks": 2000,
            "thermometers": 10, "disinfectant_litres": 50, "contact_name": "陈晓东", "contact_phone": "13800138000",
            "checklist": ["mechanism", "screening", "supplies", "management"]}
    data.update(kw)
    return data


def check_values(**kw):
    values = {"is_open": True, "staff_total": 100, "staff_returned": 70, "staff_on_site": 60, "capacity_pct": 65,
              "suspected_cases": 0, "confirmed_cases": 0}
    values.update(kw)
    return values


def png(name="photo.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def pdf(name="plan.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
