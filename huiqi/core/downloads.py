"""A file made for one download: written into a temporary folder of its own, streamed from there, and
removed with the folder once the response is closed.

Exports and upload templates are written by code that wants a path (XlsxWriter, the CSV writer), and
may be large, so they are neither built in memory nor left on disk: the server closes every response
when it is done with it (PEP 3333; also when the client went away), and closing the file removes it.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.http import FileResponse


class _RemovedOnClose(io.FileIO):
    """The file, read-only; closing it removes the temporary folder it lies in."""

    def __init__(self, path: Path, folder: Path):
        super().__init__(path, "rb")
        self._folder = folder

    def close(self) -> None:
        try:
            super().close()
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)


def file_download(write: Callable[[Path], object], filename: str, *,
                  content_type: str | None = None) -> FileResponse:
    """The attachment ``filename`` holding what ``write(path)`` writes to ``path`` (named with the same
    extension, in a temporary folder of its own). The folder goes when the response is closed, or at
    once when ``write`` raises (the error then propagates: a ``DomainError`` becomes its 4xx page)."""
    folder = Path(tempfile.mkdtemp(prefix="huiqi-download-"))
    try:
        path = folder / f"download{Path(filename).suffix}"
        write(path)
        handle = _RemovedOnClose(path, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
