"""Documents the platform issues as PDF (an analysis report, the pool's report): WeasyPrint with a CJK font
embedded, the page's number at its foot, and what the machine lacks named with its package.

A document is a template extending ``core/document.html`` (the letterhead of ``core.letterhead``, the
title, the print styles), rendered once for the page (``for_pdf=False``: the preview) and once for the
PDF with ``document_context(for_pdf=True)``. CJK PDFs take seconds: the apps render them in a job."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

# Fonts tried in order for the PDF; HUIQI_CJK_FONT names another file.
FONT_CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
]
BOLD = {"NotoSansCJK-Regular.ttc": "NotoSansCJK-Bold.ttc"}


def cjk_font() -> tuple[str | None, str | None]:
    """(regular, bold) font files for the PDF, or (None, None) to let fontconfig choose."""
    wanted = os.environ.get("HUIQI_CJK_FONT")
    for path in ([wanted] if wanted else []) + FONT_CANDIDATES:
        if path and Path(path).is_file():
            bold = Path(path).with_name(BOLD.get(Path(path).name, Path(path).name))
            return path, str(bold if bold.is_file() else path)
    return None, None


def missing_system_parts() -> list[str]:
    """What the PDF documents lack on this machine, each as a sentence saying how to install it."""
    import shutil
    import subprocess

    missing = []
    try:
        import weasyprint  # noqa: F401 - loads Pango through its C bindings
    except OSError as exc:
        missing.append(f"Pango, which WeasyPrint draws the PDF report with, cannot be loaded ({exc}); "
                       "on Debian or Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0")
    if cjk_font() == (None, None):
        listed = ""
        if shutil.which("fc-list"):
            listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True,
                                    check=False).stdout.strip()
        if not listed:
            missing.append("no Chinese (CJK) font is installed, so the PDF report would print empty boxes; "
                           "on Debian or Ubuntu: apt-get install fonts-noto-cjk (or set HUIQI_CJK_FONT to a font file)")
    return missing


def document_context(*, for_pdf: bool) -> dict:
    """What ``core/document.html`` needs beside the document's own data, in the active language: the font
    files (for the PDF) and the words around the page number (one msgid, the number the stylesheet's)."""
    regular, bold = cjk_font() if for_pdf else (None, None)
    page_before, _n, page_after = _("第 %(page)s 页").partition("%(page)s")
    return {"page_before": page_before, "page_after": page_after, "for_pdf": for_pdf,
            "font_regular": Path(regular).as_uri() if regular else "",
            "font_bold": Path(bold).as_uri() if bold else ""}


def write(html: str, path: Path) -> Path:
    """``html`` (a document rendered with ``for_pdf=True``) as a PDF at ``path``, the CJK font embedded
    (subset) so every character shows anywhere."""
    from weasyprint import HTML

    path.parent.mkdir(parents=True, exist_ok=True)
    HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(str(path))
    return path
