"""The first sheet of an XLSX workbook, read as a stream of rows, within bounds on what it unpacks.

An XLSX file is a zip archive of XML parts, and a small one can unpack to gigabytes (a "zip bomb": the
outside review's 1.6 MB workbook whose sheet unpacks to 487 MB took 1.3 GB of memory when read whole by
python-calamine). So here:

* before a part is inflated, the size the archive declares for it is checked (for the sheet, its shared
  strings and its number formats, before any of the three is inflated): none may unpack to more than
  :data:`MAX_RATIO` times its compressed size (beyond :data:`RATIO_GRACE_BYTES`; Apache POI's rule for
  the same danger), all of them together to more than :data:`MAX_UNPACKED_BYTES`, and the shared strings
  (which are kept in memory) to more than :data:`MAX_STRINGS_BYTES`;
* while inflating, the bytes actually produced are counted against the same bounds; ``zipfile`` never
  inflates more than a part's declared size and checks its CRC at the end, so a part whose declared size
  lies is refused as damaged;
* the sheet is parsed by expat as it is inflated, a block at a time, and handed out row by row: memory does
  not grow with the sheet (a 63 MB sheet of 100,000 loans: 21 MB resident, 3.5 s, against 128 MB and
  2.9 s read whole by calamine; ``docs/decisions.md``).

A cell comes as the value a spreadsheet holds: text, a number (``float``), a boolean, a date, time or
date-time by the cell's number format (an integral date-time is a ``date``), a duration for an elapsed-time
format (``[h]:mm``), None for a blank or an error value (``#N/A``), as calamine gives them. A DOCTYPE is
refused (no part of a workbook has one, and entity expansion is another way to blow up).
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
import zlib
from decimal import Decimal
from collections.abc import Callable, Iterator
from typing import BinaryIO
from xml.parsers import expat

from django.utils.translation import gettext_lazy as _

from . import formats
from .i18n import EN, ZH, render

MAX_RATIO = 100
RATIO_GRACE_BYTES = 1 << 20
MAX_UNPACKED_BYTES = 1 << 30  # about a full Excel sheet (1,048,576 rows) of a dozen columns
MAX_STRINGS_BYTES = 128 << 20  # the shared strings, held in memory while the sheet is read

MAX_ROW = 1_048_576  # Excel's sheet
MAX_COLUMN = 16_384

_BLOCK = 1 << 20
_OFFICE_DOCUMENT = "/officeDocument"
_EPOCH_1900 = dt.datetime(1899, 12, 30)  # serial 1 = 1900-01-01, past Excel's fictitious 1900-02-29
_EPOCH_1904 = dt.datetime(1904, 1, 1)
_LAST_SERIAL = 2_958_465  # 9999-12-31


class WorkbookRefused(Exception):
    """The archive cannot be read as a workbook, or would unpack beyond the bounds. ``code`` is
    ``not_workbook``, ``xlsx_too_large`` or ``xlsx_damaged``; ``msgid`` and ``params`` say why
    (``zh`` and ``en`` in either language)."""

    def __init__(self, code: str, message, **params):
        self.code, self.msgid, self.params = code, message, params
        super().__init__(code)

    def __str__(self) -> str:
        return self.en

    @property
    def zh(self) -> str:
        return render(self.msgid, self.params, ZH)

    @property
    def en(self) -> str:
        return render(self.msgid, self.params, EN)


def _mb(n: int) -> str:
    return (f"{formats.number(Decimal(n) / (1 << 20), 1)} MB" if n >= 1 << 20
            else f"{formats.number(Decimal(n) / 1024, 1)} KB")


def _not_workbook() -> WorkbookRefused:
    return WorkbookRefused("not_workbook", _("无法读取的压缩文件（不是 XLSX 工作簿）"))


def _damaged(name: str, why: str) -> WorkbookRefused:
    return WorkbookRefused("xlsx_damaged",
                           _("XLSX 工作簿已损坏：%(name)s 无法读取（%(why)s）。请在 Excel 中重新保存后上传"),
                           name=name, why=why)


def _too_large(name: str, unpacked: int, packed: int) -> WorkbookRefused:
    return WorkbookRefused(
        "xlsx_too_large",
        _("XLSX 工作簿中的 %(name)s 压缩后 %(packed)s，解压后 %(unpacked)s，压缩比超过 %(ratio)s:1 的上限"
          "（疑似“压缩炸弹”），未读取。请删除多余的内容，或另存为 CSV 后上传"),
        name=name, packed=_mb(packed), unpacked=_mb(unpacked), ratio=MAX_RATIO,
    )


def _over_limit(strings: bool, unpacked: int, limit: int) -> WorkbookRefused:
    """Beyond ``limit`` unpacked: the shared strings (``strings``) or the parts together."""
    if strings:
        message = _("XLSX 工作簿的共享字符串（sharedStrings）解压后有 %(unpacked)s（%(n)s 字节），超过 %(limit)s "
                    "字节的上限，未读取。请删除多余的内容，或另存为 CSV 后上传")
    else:
        message = _("XLSX 工作簿解压后有 %(unpacked)s（%(n)s 字节），超过 %(limit)s 字节的上限，未读取。"
                    "请删除多余的内容，或另存为 CSV 后上传")
    return WorkbookRefused("xlsx_too_large", message, unpacked=_mb(unpacked), n=formats.count(unpacked),
                           limit=formats.count(limit))


class _Inflated:
    """A part of the archive as it is inflated, its bytes counted against the bounds."""

    def __init__(self, book: Workbook, info: zipfile.ZipInfo):
        self.book, self.info = book, info
        self.done = 0
        try:
            self._f = book.zip.open(info)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError, zlib.error) as exc:
            raise _damaged(info.filename, type(exc).__name__) from None

    def read(self, n: int = _BLOCK) -> bytes:
        try:
            data = self._f.read(n)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            raise _damaged(self.info.filename, str(exc) or type(exc).__name__) from None
        self.done += len(data)
        self.book.unpacked += len(data)
        if self.done > self.info.file_size:  # zipfile stops at the declared size; this is in case it did not
            raise _damaged(self.info.filename, "more data than declared")
        if self.done > RATIO_GRACE_BYTES and self.done > MAX_RATIO * max(1, self.info.compress_size):
            raise _too_large(self.info.filename, self.done, self.info.compress_size)
        if self.book.unpacked > MAX_UNPACKED_BYTES:
            raise _over_limit(False, self.book.unpacked, MAX_UNPACKED_BYTES)
        return data

    def close(self) -> None:
        self._f.close()


def _no_doctype(*args):
    raise WorkbookRefused("xlsx_damaged", _("XLSX 工作簿含有 DOCTYPE 声明，拒绝读取"))


def _parse(stream: _Inflated, start: Callable | None = None, end: Callable | None = None,
           text: Callable | None = None) -> Iterator[None]:
    """Feed a part to expat a block at a time, yielding after each block so that a caller can hand out
    what the handlers collected. Names are taken as written (``x:c`` or ``c``; :func:`_local` drops the
    prefix): the parts use one vocabulary each, and resolving namespaces costs a tenth of the parse."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    parser.StartDoctypeDeclHandler = _no_doctype
    if start:
        parser.StartElementHandler = start
    if end:
        parser.EndElementHandler = end
    if text:
        parser.CharacterDataHandler = text
    try:
        while block := stream.read(_BLOCK):
            parser.Parse(block, False)
            yield
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        why = f"XML: {expat.ErrorString(exc.code)}, line {exc.lineno}"
        raise _damaged(stream.info.filename, why) from None
    finally:
        stream.close()
    yield


def _local(name: str) -> str:
    return name[name.rfind(":") + 1:]


_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(s: str) -> str:
    """OOXML's ``_xHHHH_`` escapes of characters XML cannot carry (``_x000D_``, ``_x005F_`` for ``_``)."""
    return _ESCAPE.sub(lambda m: chr(int(m[1], 16)), s) if "_x" in s else s


# Built-in number formats that show dates or times: Excel's (14–22, 45–47) and those of Chinese,
# Japanese and Korean Excel (27–36, 50–58). Times only: 18–21, 32–35, 45–47, 55–56.
_DATE_FORMATS = set(range(14, 23)) | set(range(27, 37)) | set(range(45, 48)) | set(range(50, 59))
_TIME_FORMATS = {18, 19, 20, 21, 32, 33, 34, 35, 45, 46, 47, 55, 56}
_FORMAT_NOISE = re.compile(r'"[^"]*"|\\.|_.|\*.')
_DATE, _TIME, _DURATION = 1, 2, 3


def _format_kind(code: str) -> int | None:
    """Whether a custom number format shows a date (or date-time), a time of day, an elapsed time, or
    neither (None). Its first section counts, without quoted text, escapes, colours and conditions; an
    ``m`` is a month beside a day or year or alone, a minute beside hours or seconds."""
    first = _FORMAT_NOISE.sub("", code).split(";")[0]
    if re.search(r"\[(h+|m+|s+)\]", first, re.I):
        return _DURATION
    plain = re.sub(r"\[[^\]]*\]", "", first).lower()
    if re.search(r"[dy]", plain):
        return _DATE
    if re.search(r"[hs]", plain):
        return _TIME
    return _DATE if "m" in plain else None


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


class Workbook:
    """The first sheet of a workbook (a path or a seekable binary file), checked as the module says.
    Opening reads the workbook's structure, number formats and shared strings; :meth:`rows` streams the
    sheet (and may be called again). ``sheet_size`` is the sheet's declared unpacked size and
    ``sheet_done`` how much of it the current :meth:`rows` has inflated."""

    def __init__(self, source: str | BinaryIO):
        try:
            self.zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
            raise _not_workbook() from None
        self.unpacked = 0
        self.sheet_done = 0
        try:
            self._open()
        except BaseException:
            self.zip.close()
            raise

    def close(self) -> None:
        self.zip.close()

    def _info(self, name: str | None) -> zipfile.ZipInfo | None:
        if not name:
            return None
        try:
            return self.zip.getinfo(name)
        except KeyError:
            return None

    def _check_declared(self, *infos: zipfile.ZipInfo | None) -> None:
        for info in infos:
            if info is not None and info.file_size > RATIO_GRACE_BYTES and (
                    info.file_size > MAX_RATIO * max(1, info.compress_size)):
                raise _too_large(info.filename, info.file_size, info.compress_size)
        total = self.unpacked + sum(i.file_size for i in infos if i is not None)
        if total > MAX_UNPACKED_BYTES:
            raise _over_limit(False, total, MAX_UNPACKED_BYTES)

    def _read_part(self, info, start=None, end=None, text=None) -> None:
        for _ in _parse(_Inflated(self, info), start, end, text):
            pass

    def _relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """Id → (type, target path) of a part's relationships (``xl/_rels/workbook.xml.rels``)."""
        folder, name = posixpath.split(part)
        info = self._info(posixpath.join(folder, "_rels", name + ".rels"))
        found: dict[str, tuple[str, str]] = {}
        if info is None:
            return found

        def start(tag, attrs):
            if _local(tag) == "Relationship" and attrs.get("TargetMode") != "External":
                target = attrs.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                    posixpath.join(folder, target))
                found[attrs.get("Id", "")] = (attrs.get("Type", ""), path)

        self._check_declared(info)
        self._read_part(info, start)
        return found

    def _open(self) -> None:
        book = next((path for kind, path in self._relationships("").values()
                     if kind.endswith(_OFFICE_DOCUMENT)), "xl/workbook.xml")
        book_info = self._info(book)
        if book_info is None:
            raise _not_workbook()
        related = self._relationships(book)
        first: list[str] = []
        self.date1904 = False

        def start(tag, attrs):
            local = _local(tag)
            if local == "workbookPr":
                self.date1904 = attrs.get("date1904", "").lower() in ("1", "true")
            elif local == "sheet" and not first:
                first.append(next((v for k, v in attrs.items() if ":" in k and _local(k) == "id"), ""))

        self._check_declared(book_info)
        self._read_part(book_info, start)
        sheet = related.get(first[0]) if first else None
        self.sheet = self._info(sheet[1] if sheet else None)
        if self.sheet is None:
            raise _not_workbook()
        strings = self._info(next((p for k, p in related.values() if k.endswith("/sharedStrings")), None))
        styles = self._info(next((p for k, p in related.values() if k.endswith("/styles")), None))
        self._check_declared(self.sheet, strings, styles)
        if strings is not None and strings.file_size > MAX_STRINGS_BYTES:
            raise _over_limit(True, strings.file_size, MAX_STRINGS_BYTES)
        self.sheet_size = self.sheet.file_size
        self.kinds = self._styles(styles) if styles is not None else []
        self.strings = self._strings(strings) if strings is not None else []
        self._opened = self.unpacked  # what opening inflated; each reading of the sheet adds to it anew

    def _styles(self, info) -> list[int | None]:
        """Per cell style (``s``), whether its number format shows a date, a time, a duration, or none."""
        custom: dict[int, int | None] = {}
        formats: list[int] = []
        depth = [0]

        def start(tag, attrs):
            local = _local(tag)
            if local == "numFmt":
                try:
                    custom[int(attrs.get("numFmtId", ""))] = _format_kind(attrs.get("formatCode", ""))
                except ValueError:
                    pass
            elif local == "cellXfs":
                depth[0] = 1
            elif local == "xf" and depth[0]:
                try:
                    formats.append(int(attrs.get("numFmtId", "0")))
                except ValueError:
                    formats.append(0)

        def end(tag):
            if _local(tag) == "cellXfs":
                depth[0] = 0

        self._read_part(info, start, end)

        def kind(number: int) -> int | None:
            if number in custom:
                return custom[number]
            if number in _DATE_FORMATS:
                return _TIME if number in _TIME_FORMATS else _DATE
            return None

        return [kind(n) for n in formats]

    def _strings(self, info) -> list[str]:
        strings: list[str] = []
        parts: list[str] = []
        state = {"keep": False, "phonetic": 0}

        def start(tag, attrs):
            local = _local(tag)
            if local == "si":
                parts.clear()
            elif local == "t" and not state["phonetic"]:
                state["keep"] = True
            elif local == "rPh":
                state["phonetic"] += 1

        def end(tag):
            local = _local(tag)
            if local == "si":
                strings.append(_unescape("".join(parts)))
            elif local == "t":
                state["keep"] = False
            elif local == "rPh":
                state["phonetic"] -= 1

        def text(s):
            if state["keep"]:
                parts.append(s)

        self._read_part(info, start, end, text)
        return strings

    def rows(self) -> Iterator[tuple[int, list]]:
        """``(row number, cells)`` for every row the sheet holds, numbered from 1 as Excel shows them, cells
        from column A (a cell the sheet leaves out is None)."""
        strings, kinds = self.strings, self.kinds
        epoch = _EPOCH_1904 if self.date1904 else _EPOCH_1900
        done: list[tuple[int, list]] = []
        cells: list = []
        text: list[str] = []
        codes: dict[str, int] = {}
        columns: dict[str, int] = {}
        rowno = 0
        kind = style = None
        keep = False
        phonetic = 0
        name = self.sheet.filename

        def learn(tag: str) -> int:
            code = codes[tag] = {"row": 1, "c": 2, "v": 3, "t": 3, "rPh": 4}.get(_local(tag), 5)
            return code

        # The handlers run for every element of the sheet (3.3 million for 100,000 rows of 13 cells): the
        # element's code is a dict lookup, and the usual cell (a number, a shared string) is read inline.
        def start(tag, attrs):
            nonlocal kind, style, keep, phonetic, rowno, cells
            code = codes.get(tag) or learn(tag)
            if code == 2:
                kind, style = attrs.get("t"), attrs.get("s")
                text.clear()
                ref = attrs.get("r")
                if ref:
                    letters = ref.rstrip("0123456789")
                    col = columns.get(letters)
                    if col is None:
                        if not letters.isalpha() or not letters.isascii():
                            raise _damaged(name, f"cell reference {ref[:20]!r}")
                        col = columns[letters] = _column_index(letters.upper())
                    if col >= MAX_COLUMN:
                        raise _damaged(name, f"cell {ref[:20]} is beyond Excel's last column")
                    if col > len(cells):
                        cells.extend([None] * (col - len(cells)))
                    elif col < len(cells):  # a cell given twice or out of order: the later one counts
                        del cells[col:]
            elif code == 3:
                keep = not phonetic
            elif code == 1:
                ref = attrs.get("r")
                try:
                    rowno = int(ref) if ref else rowno + 1
                except ValueError:
                    raise _damaged(name, f"row number {ref[:20]!r}") from None
                if not 0 < rowno <= MAX_ROW:
                    raise _damaged(name, f"row {rowno} is beyond Excel's sheet")
                cells = []
            elif code == 4:
                phonetic += 1

        def end(tag):
            nonlocal keep, phonetic
            code = codes.get(tag) or learn(tag)
            if code == 2:
                if not text:
                    cells.append(None)
                    return
                raw = text[0] if len(text) == 1 else "".join(text)
                if kind is None and style is None:
                    try:
                        cells.append(float(raw))
                        return
                    except ValueError:
                        pass
                elif kind == "s":
                    try:
                        cells.append(strings[int(raw)])
                        return
                    except (ValueError, IndexError):
                        pass
                cells.append(value(raw))
            elif code == 3:
                keep = False
            elif code == 1:
                done.append((rowno, cells))
            elif code == 4:
                phonetic -= 1

        def data(s):
            if keep:
                text.append(s)

        def value(raw: str):
            if kind is None or kind == "n":
                try:
                    number = float(raw)
                except ValueError:
                    return raw
                if style is not None:
                    try:
                        shown = kinds[int(style)]
                    except (ValueError, IndexError):
                        shown = None
                    if shown is not None:
                        return _moment(number, shown, epoch)
                return number
            if kind == "s":
                try:
                    return strings[int(raw)]
                except (ValueError, IndexError):
                    raise _damaged(name, f"shared string {raw[:20]!r} does not exist") from None
            if kind == "inlineStr" or kind == "str":
                return _unescape(raw)
            if kind == "b":
                return raw.strip() in ("1", "true")
            if kind == "d":
                try:
                    moment = dt.datetime.fromisoformat(raw.strip())
                except ValueError:
                    return raw
                return moment.date() if moment.time() == dt.time() and "T" not in raw else moment
            return None  # an error value (#N/A, #DIV/0!)

        stream = _Inflated(self, self.sheet)
        self.sheet_done = 0
        self.unpacked = self._opened
        blocks = _parse(stream, start, end, data)
        try:
            for _ in blocks:
                self.sheet_done = stream.done
                yield from done
                done.clear()
        finally:
            blocks.close()


def _moment(serial: float, shown: int, epoch: dt.datetime):
    """A date-formatted number as the date, time, date-time or duration Excel shows."""
    if shown == _DURATION:
        return dt.timedelta(days=serial)
    if not 0 <= serial <= _LAST_SERIAL:
        return serial
    if shown == _TIME and serial < 1:
        moment = dt.datetime.min + dt.timedelta(milliseconds=round(serial * 86_400_000))
        return moment.time()
    if epoch is _EPOCH_1900 and serial < 61:
        serial += 1  # before Excel's fictitious 1900-02-29
    whole = int(serial)
    if whole == serial:
        return (epoch + dt.timedelta(days=whole)).date()
    return epoch + dt.timedelta(days=whole, milliseconds=round((serial - whole) * 86_400_000))


def declared_size(source: str | BinaryIO) -> int:
    """What the archive says its parts unpack to, all together (0 when it is not a zip archive): read from
    its central directory, nothing inflated."""
    try:
        with zipfile.ZipFile(source) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        return 0
