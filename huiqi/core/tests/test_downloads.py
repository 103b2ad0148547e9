"""``core.downloads.file_download``: the file is streamed, and its temporary folder goes when the response
is closed — read to the end or not — or at once when writing it fails."""

from __future__ import annotations

import tempfile

import pytest

from huiqi.core.downloads import file_download
from huiqi.core.errors import ValidationFailed

# Closing a response ends the request (Django's request_finished), which looks at the database connection.
pytestmark = pytest.mark.django_db


@pytest.fixture
def temp_root(tmp_path, monkeypatch):
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def test_the_file_is_streamed_and_removed_once_the_response_is_closed(temp_root):
    response = file_download(lambda path: path.write_bytes(b"a,b\n" * 100_000), "rows.csv")
    assert response["Content-Disposition"] == 'attachment; filename="rows.csv"'
    assert response["Content-Length"] == "400000" and response["Content-Type"].startswith("text/csv")
    assert len(list(temp_root.iterdir())) == 1  # there while it is sent
    assert b"".join(response.streaming_content) == b"a,b\n" * 100_000
    response.close()
    assert list(temp_root.iterdir()) == []


def test_a_client_that_leaves_early_leaves_nothing_either(temp_root):
    response = file_download(lambda path: path.write_bytes(b"x" * 1_000_000), "big.xlsx")
    next(iter(response.streaming_content))
    response.close()  # the server closes the response of a client that went away
    assert list(temp_root.iterdir()) == []


def test_a_file_that_cannot_be_written_leaves_nothing(temp_root):
    def refuse(path):
        path.write_bytes(b"half")
        raise ValidationFailed("too_many_rows_for_xlsx", "请改用 CSV 格式")

    with pytest.raises(ValidationFailed):
        file_download(refuse, "rows.xlsx")
    assert list(temp_root.iterdir()) == []
