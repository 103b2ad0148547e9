"""Every export and template is written to a temporary file for its download, and nothing of it stays
behind once the download is over (``core.downloads``)."""

from __future__ import annotations

import tempfile

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

# (role, address) of each download that writes a temporary file.
DOWNLOADS = [
    ("bureau", "/registry/export.csv"),
    ("bureau", "/registry/export.xlsx"),
    ("enterprise", "/registry/import/template.zh.csv"),
    ("enterprise", "/registry/import/template.en.xlsx"),
    ("bank", "/lending/template/loans.zh.xlsx"),
    ("bank", "/lending/template/payments.en.csv"),
    ("enterprise", "/subsidy/mine/export.xlsx"),
    ("bank", "/subsidy/bank/export.csv"),
    ("bureau", "/requests/figures/export.xlsx"),
    ("bureau", "/requests/figures/export.csv"),
    ("bureau", "/resumption/checks/?format=xlsx"),
    ("bureau", "/resumption/checks/?format=xlsx&missing=1"),
    ("bureau", "/resumption/report/export.xlsx"),
    ("auditor", "/core/audit/export.xlsx"),
    ("auditor", "/core/audit/export.csv"),
]


@pytest.fixture
def temp_root(tmp_path, monkeypatch):
    """Python's temporary folder, pointed at an empty folder of the test's own."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


@pytest.mark.parametrize(("role", "url"), DOWNLOADS)
def test_a_download_leaves_no_temporary_file(users, temp_root, role, url):
    c = Client()
    c.force_login(users[role])
    response = c.get(url)
    assert response.status_code == 200, (url, response.content[:500])
    assert response.streaming and "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content)  # the client reads it all: the response is then closed
    assert list(temp_root.iterdir()) == []
