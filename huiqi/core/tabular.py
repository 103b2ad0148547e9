"""Tabular import and export: the one engine behind every spreadsheet upload and download.

Banks and bureaus send CSV (UTF-8 with or without BOM, or GB18030/GBK) and XLSX (first sheet, read as a
stream within bounds on what it unpacks: ``core.xlsx``), with
Chinese or English headers in any order (``specs/bank-data-exchange.md``). This module turns such a
file into parsed rows plus a complete list of bad cells, without knowing what the rows mean:

* a :class:`Schema` of :class:`Column` says which columns exist, which are required, and how each
  cell is parsed (``parse_text``, ``parse_int``, ``parse_decimal``, ``parse_date``, ``parse_choice``,
  ``parse_bool_yn``);
* :func:`read_table` decodes the bytes (refusing what is not a spreadsheet), :func:`validate` parses a
  whole file and :func:`iter_chunks` streams a big one in chunks;
* :func:`write_error_report`, :func:`write_template` and :func:`write_rows` write spreadsheets back.

Problems with the file as a whole (not a spreadsheet, undecodable, empty) raise :class:`FileRejected`;
problems with the header (a required column missing, one given twice) and with cells never raise, they
become :class:`RowError` values, every one of them (a row's cells, its checks across fields, its key
repeated), so the user fixes the file in one round. Amounts are ``Decimal``, never float.

No Django here: the services of each app call this and decide what to store.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import os
import re
import unicodedata
import zoneinfo
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple, Union

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from huiqi.core import formats, xlsx
from huiqi.core.errors import EN, ZH, Message, ValidationFailed, pick, render

__all__ = [
    "ROW",
    "XLSX_MAX_DATA_ROWS",
    "ERROR_REPORT_HEADER",
    "CellError",
    "FileRejected",
    "Column",
    "Schema",
    "HeaderMatch",
    "RowError",
    "Table",
    "Chunk",
    "Result",
    "parse_text",
    "parse_int",
    "parse_decimal",
    "parse_date",
    "parse_choice",
    "parse_bool_yn",
    "read_table",
    "iter_chunks",
    "validate",
    "write_error_report",
    "write_template",
    "write_rows",
    "file_digest",
]

Source = Union[bytes, bytearray, memoryview, str, os.PathLike, BinaryIO]
"""Bytes in memory, a filesystem path, or a seekable binary file object (e.g. a Django upload)."""

ROW = "_row"
"""Key of the spreadsheet row number in every parsed row dict."""

XLSX_MAX_DATA_ROWS = 1_048_575  # Excel's 1,048,576 rows minus the header row
DATE_MIN = dt.date(2000, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)
EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01, shifted by Excel's fictitious 1900-02-29
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

_BLOCK = 1 << 20


# --------------------------------------------------------------------------------------------------
# Errors


class CellError(ValidationFailed):
    """A cell whose text a parser cannot accept. Raised by parsers; the engine turns it into a RowError."""

    def __init__(self, message, code: str = "bad_value", **params):
        super().__init__(code, message, **params)

    @classmethod
    def of(cls, error) -> CellError:
        """Another error of a value (an identifier's, say) as the cell's."""
        return cls(error.msgid, code=error.code, **error.params)


class FileRejected(ValidationFailed):
    """The file as a whole cannot be read: nothing of it is used.

    ``code`` is one of ``not_spreadsheet``, ``bad_encoding``, ``empty_file``, ``no_data_rows``,
    ``missing_columns``, ``duplicate_columns``, ``bad_csv``, ``nul_character`` (in the header),
    ``xlsx_too_large``, ``xlsx_damaged`` (see ``core.xlsx``). ``row`` is the spreadsheet row concerned
    when there is one (1 for header problems). For ``missing_columns``, ``value`` lists the missing keys.
    """

    def __init__(self, code: str, message, row: int | None = None, value: object = None, **params):
        super().__init__(code, message, value=value, **params)
        self.row = row

    def as_row_error(self) -> RowError:
        """The same problem as one line of an error report (row 0 when it concerns the whole file)."""
        return RowError(self.row or 0, None, "", self.zh, self.en)


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad cell (or bad row when ``column`` is None).

    ``row`` is numbered as the spreadsheet user sees it: the header is row 1 and the first data row is
    row 2 (blank lines count, as they do in Excel). ``column`` is the schema key; ``value`` is the cell
    text as it appeared in the file.
    """

    row: int
    column: str | None
    value: str
    zh: str
    en: str

    @classmethod
    def of(cls, row: int, column: str | None, value: str, message, **params) -> RowError:
        """A row error from a msgid and its params, said in both languages (the error report carries
        both; a page shows the reader's)."""
        return cls(row, column, value, render(message, params, ZH), render(message, params, EN))

    @property
    def message(self) -> str:
        return pick(self.zh, self.en)

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, "zh": self.zh, "en": self.en}


# --------------------------------------------------------------------------------------------------
# Parsers: each takes a cell's text (or None) and returns a value or raises CellError.
# Blank input returns None; whether blank is allowed is the Column's ``required`` flag, not the parser's.
# Each parser carries a ``kind`` attribute so that templates can format their columns (text, dates).

_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"


def _clean(value: str | None) -> str:
    """Trim whitespace (including full-width spaces) and the invisible characters Excel users paste."""
    if not value:
        return ""
    s = value.strip()
    if s and (s[0] in _INVISIBLE or s[-1] in _INVISIBLE):
        s = s.strip(_INVISIBLE + " \t\r\n\u3000\xa0")
    return s


def _halfwidth(s: str) -> str:
    """Full-width digits and punctuation to ASCII (１２３．５ → 123.5); ASCII input is returned as is."""
    if s.isascii():
        return s
    return unicodedata.normalize("NFKC", s).replace("\u2212", "-").strip()


def _kind(kind: str) -> Callable[[Callable], Callable]:
    def mark(fn: Callable) -> Callable:
        fn.kind = kind
        return fn

    return mark


def parse_text(max_len: int | None = None) -> Callable[[str | None], str | None]:
    """Trimmed text, at most ``max_len`` characters."""

    @_kind("text")
    def parse(value: str | None) -> str | None:
        s = _clean(value)
        if not s:
            return None
        if max_len is not None and len(s) > max_len:
            raise CellError(_("超过 %(max_len)s 个字符（共 %(s_len)s 个）"), max_len=max_len, s_len=len(s))
        return s

    parse.max_len = max_len  # read by the ledger's columnar pass (lending.bulk.columnar)
    return parse


# Thousands separators only in groups of three, so a European "1,5" is refused rather than read as 15.
_INT_RE = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.0*)?")
_DECIMAL_RE = re.compile(r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)")


def _bound(x: object) -> Decimal | None:
    return None if x is None else Decimal(str(x))


def parse_int(min: int | None = None, max: int | None = None) -> Callable[[str | None], int | None]:
    """A whole number; thousands separators, full-width digits and a ``.0`` tail are accepted."""

    @_kind("int")
    def parse(value: str | None) -> int | None:
        s = _halfwidth(_clean(value))
        if not s:
            return None
        if not _INT_RE.fullmatch(s):
            raise CellError(_("不是整数"))
        n = int(s.partition(".")[0].replace(",", ""))
        if min is not None and n < min:
            raise CellError(_("不能小于 %(lo)s"), lo=min)
        if max is not None and n > max:
            raise CellError(_("不能大于 %(hi)s"), hi=max)
        return n

    parse.lo, parse.hi = min, max
    return parse


def parse_decimal(
    places: int | None = None,
    min: object = None,
    min_exclusive: bool = False,
    max: object = None,
) -> Callable[[str | None], Decimal | None]:
    """An exact ``Decimal`` (never a float), with at most ``places`` decimal places.

    Accepts ``1,000.00`` (separators in groups of three), full-width digits (``１２３．５``) and
    surrounding spaces; refuses text, exponents, ``NaN``, percent signs and currency symbols. A value
    with more decimal places than allowed is refused unless the extra places are zeros (``1.500`` is
    1.50); the result is quantized to ``places``. ``min``/``max`` are inclusive bounds, ``min``
    exclusive when ``min_exclusive``.
    """
    lo, hi = _bound(min), _bound(max)
    quantum = Decimal(1).scaleb(-places) if places is not None else None
    if min_exclusive:
        low = _("必须大于 %(lo)s")
    elif lo == 0:
        low = _("不能为负数")
    else:
        low = _("不能小于 %(lo)s")

    @_kind("decimal")
    def parse(value: str | None) -> Decimal | None:
        s = _halfwidth(_clean(value))
        if not s:
            return None
        if not _DECIMAL_RE.fullmatch(s):
            raise CellError(_("不是数字（应为如 1,000.00 的数字）"))
        d = Decimal(s.replace(",", "") if "," in s else s)
        if quantum is not None:
            try:
                q = d.quantize(quantum)
            except InvalidOperation:  # more digits than Decimal's 28-digit context
                raise CellError(_("数值过大")) from None
            if q != d:
                raise CellError(_("小数位数超过 %(places)s 位"), places=places)
            d = q
        if not d:
            d = abs(d)  # "-0.00" is zero, not a negative amount
        if lo is not None and (d <= lo if min_exclusive else d < lo):
            raise CellError(low, lo=lo)
        if hi is not None and d > hi:
            raise CellError(_("不能大于 %(hi)s"), hi=hi)
        return d

    # Read by the ledger's columnar pass (lending.bulk.columnar) to check plain amounts on whole columns.
    parse.places, parse.lo, parse.hi, parse.min_exclusive = places, lo, hi, min_exclusive
    return parse


_DATE_RE = re.compile(
    r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)?)?"
)
_DATE_ZH_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?")
_DATE_COMPACT_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SERIAL_RE = re.compile(r"(\d{1,6})(?:\.0*)?")
_NOT_A_DATE = _("不是日期（应为如 2020-03-01 的日期）")


def parse_date(min: dt.date = DATE_MIN, max: dt.date = DATE_MAX) -> Callable[[str | None], dt.date | None]:
    """A calendar date between ``min`` and ``max`` (by default 2000-01-01..2100-12-31).

    Accepts ``2020-03-01``, ``2020/3/1``, ``2020.03.01``, ``20200301``, ``2020年3月1日``, full-width
    digits, an Excel serial number (``43891`` → 2020-03-01, epoch 1899-12-30) and any of these
    followed by a midnight time (``2020-03-01 00:00:00``, Excel's ``2020/3/1 0:00``). Refuses
    impossible dates (2020-02-30), a time other than midnight, and day-first or month-first orders.
    """

    def check(d: dt.date) -> dt.date:
        if d < min or d > max:
            raise CellError(_("日期 %(d)s 超出 %(min)s 至 %(max)s 的范围"), d=d.isoformat(), min=min.isoformat(),
                            max=max.isoformat())
        return d

    def build(y: str, m: str, d: str) -> dt.date:
        try:
            return dt.date(int(y), int(m), int(d))
        except ValueError:
            raise CellError(_("日期不存在：%(y)s-%(m)s-%(d)s"), y=y, m=m, d=d) from None

    @_kind("date")
    def parse(value: str | None) -> dt.date | None:
        s = _clean(value)
        if not s:
            return None
        # Fast path for the ISO form that XLSX date cells and most exports produce.
        if len(s) == 10 and s[4] == "-" and s[7] == "-" and s.isascii():
            try:
                return check(dt.date.fromisoformat(s))
            except ValueError:
                pass
        s = _halfwidth(s)
        if m := _DATE_RE.fullmatch(s):
            if any(t and int(t) for t in m.group(5, 6, 7, 8)):
                raise CellError(_("日期带有非零时刻，应只填日期"))
            return check(build(m[1], m[3], m[4]))
        if m := _DATE_ZH_RE.fullmatch(s):
            return check(build(m[1], m[2], m[3]))
        if m := _DATE_COMPACT_RE.fullmatch(s):
            return check(build(m[1], m[2], m[3]))
        if m := _SERIAL_RE.fullmatch(s):
            serial = int(m[1])
            try:
                return check(EXCEL_EPOCH + dt.timedelta(days=serial))
            except (CellError, OverflowError):
                raise CellError(
                    _("%(s)s 不是 %(min)s 至 %(max)s 之间的日期（按 Excel 日期序号读取）"), s=s, min=min, max=max,
                ) from None
        raise CellError(_NOT_A_DATE)

    parse.min_date, parse.max_date = min, max
    return parse


def _norm_choice(s: str) -> str:
    return _halfwidth(_clean(s)).casefold()


def parse_choice(mapping: Mapping[str, Any], labels: Mapping[Any, Any] | None = None) -> Callable[[str | None], Any]:
    """One of a fixed set of values: ``mapping`` maps every accepted spelling to the stored value.

    Example: ``{"enterprise": "enterprise", "企业": "enterprise"}``. Matching ignores case,
    surrounding spaces and full-width forms. ``labels`` (stored value → its lazy label, as a model's
    ``choices`` give them) are what a template offers in its reader's language: each label is accepted
    too, as either language says it. The parser's ``choices`` lists ``(stored, label)`` pairs.
    """
    lookup: dict[str, Any] = {}

    def accept(spelling: str, stored: Any) -> None:
        norm = _norm_choice(spelling)
        if norm in lookup and lookup[norm] != stored:
            raise ValueError(f"parse_choice: {spelling!r} is ambiguous")
        lookup[norm] = stored
        lookup.setdefault(spelling, stored)

    for spelling, stored in mapping.items():
        accept(spelling, stored)
    if labels:
        for stored, label in labels.items():
            for language in (ZH, EN):
                accept(render(label, None, language), stored)
        choices = list(labels.items())
    else:
        first: dict[Any, str] = {}
        for spelling, stored in mapping.items():
            first.setdefault(stored, spelling)
        choices = list(first.items())
    shown = ", ".join(mapping)

    @_kind("choice")
    def parse(value: str | None) -> Any:
        s = _clean(value)
        if not s:
            return None
        try:
            return lookup[s]
        except KeyError:
            pass
        try:
            return lookup[_norm_choice(s)]
        except KeyError:
            raise CellError(_("应为以下之一：%(allowed)s"), allowed=shown) from None

    parse.choices = choices
    return parse


_YES_NO = {"Y": True, "N": False, "是": True, "否": False,
           "yes": True, "no": False, "true": True, "false": False}


def parse_bool_yn() -> Callable[[str | None], bool | None]:
    """Y/N or 是/否 (also yes/no, and TRUE/FALSE as Excel shows boolean cells) → True/False."""
    inner = parse_choice(_YES_NO)

    @_kind("bool")
    def parse(value: str | None) -> bool | None:
        try:
            return inner(value)
        except CellError:
            raise CellError(_("应为 是/否（Y/N）")) from None

    parse.choices = [(True, _("是")), (False, _("否"))]
    return parse


# --------------------------------------------------------------------------------------------------
# Schema and header matching


def _norm_label(s: str) -> str:
    """How headers are compared: full-width → half-width, case-insensitive, no spaces/underscores/dashes.

    A leading ``*`` (the usual "required" marker of Chinese templates) is ignored too.
    """
    s = unicodedata.normalize("NFKC", _clean(s)).casefold()
    return _LABEL_NOISE.sub("", s).lstrip("*")


_LABEL_NOISE = re.compile(r"[\s_\-\u200b\ufeff]+")


@dataclass(frozen=True)
class Column:
    """One column of an upload: its English ``key``, its Chinese header ``zh``, and how to read a cell.

    A header cell matches the column by ``key``, ``zh`` or any of ``aliases``. A ``required`` column
    must be present in the header and filled in every row; an optional one may be absent or blank
    (its value is then None).

    What the upload template says of the column (:func:`write_template`): ``help``, its meaning (a lazy
    msgid); ``example``, the text of the template's example row (lazy when it is words; blank for an
    optional column left empty), which must be a value the column accepts; ``codes``, for a column
    whose values come from reference data, a callable giving ``(value, name)`` pairs in the active
    language (a column of ``parse_choice`` or ``parse_bool_yn`` has its choices without it).
    """

    key: str
    zh: str
    required: bool = True
    parser: Callable[[str | None], Any] = field(default_factory=parse_text)
    aliases: tuple[str, ...] = ()
    help: Any = ""
    example: Any = ""
    codes: Callable[[], Sequence[tuple[str, str]]] | None = None

    def code_list(self) -> list[tuple[str, str]]:
        """The values the column takes, as ``(what to type, its name)`` in the active language; empty for
        a free column."""
        if self.codes is not None:
            return [(str(v), str(n)) for v, n in self.codes()]
        return [(str(label), "") for _stored, label in getattr(self.parser, "choices", ())]

    @property
    def label(self) -> str:
        """Both names, for messages: ``贷款金额（元）(principal)``."""
        return f"{self.zh}({self.key})"


@dataclass(frozen=True)
class HeaderMatch:
    """Where each schema column sits in a file's header.

    ``positions`` maps key → 0-based cell index; ``headers`` maps key → the header text as written
    in the file; ``unknown_columns`` are the file's headers that match no column (ignored).
    ``problems`` are the header's errors when it was matched leniently (``strict=False``): a required
    column missing, a column given twice (neither copy is read).
    """

    positions: dict[str, int]
    headers: dict[str, str]
    unknown_columns: list[str]
    problems: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class Schema:
    """A named set of columns, e.g. the loan ledger. Labels must not collide once normalised."""

    name: str
    columns: tuple[Column, ...]
    _lookup: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        lookup: dict[str, Column] = {}
        for col in self.columns:
            if col.key == ROW:
                raise ValueError(f"schema {self.name}: {ROW!r} is reserved for the row number")
            for label in (col.key, col.zh, *col.aliases):
                norm = _norm_label(label)
                if lookup.get(norm, col) is not col:
                    raise ValueError(f"schema {self.name}: header {label!r} names two columns")
                lookup[norm] = col
        object.__setattr__(self, "_lookup", lookup)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    def match(self, header: Sequence[str], header_row: int = 1, *, strict: bool = True) -> HeaderMatch:
        """Locate the columns in ``header``. ``strict``: refuse the file (``FileRejected``) if a required
        column is missing or a column is doubled. Else those are the match's ``problems``, one per
        column, and the file's other columns are read: a doubled column is read from neither copy (which
        one is meant is not guessed), a missing one not at all."""
        positions: dict[str, int] = {}
        headers: dict[str, str] = {}
        unknown: list[str] = []
        problems: list[RowError] = []
        doubled: dict[str, int] = {}
        for i, text in enumerate(header):
            norm = _norm_label(text or "")
            if not norm:
                continue
            col = self._lookup.get(norm)
            if col is None:
                unknown.append(_clean(text))
            elif col.key in positions or col.key in doubled:
                first = (positions[col.key] if col.key in positions else doubled[col.key]) + 1
                error = FileRejected(
                    "duplicate_columns", _("列“%(label)s”出现了两次（第 %(first)s 列和第 %(i)s 列）"), row=header_row,
                    label=col.label, first=first, i=i + 1,
                )
                if strict:
                    raise error
                doubled.setdefault(col.key, positions.pop(col.key, first - 1))
                headers.pop(col.key, None)
                problems.append(RowError(header_row, col.key, _clean(text), error.zh, error.en))
            else:
                positions[col.key] = i
                headers[col.key] = _clean(text)
        missing = [c for c in self.columns if c.required and c.key not in positions and c.key not in doubled]
        if missing:
            found = ", ".join(_clean(h) for h in header if _clean(h)) or "—"
            if strict:
                raise FileRejected(
                    "missing_columns", _("缺少必需的列：%(items)s。文件第 %(header_row)s 行的表头是：%(found)s"),
                    row=header_row, value=[c.key for c in missing], items=", ".join(c.label for c in missing),
                    header_row=header_row, found=found,
                )
            for c in missing:
                problems.append(RowError.of(header_row, c.key, "", _("缺少必需的列“%(label)s”"), label=c.label))
        return HeaderMatch(positions, headers, unknown, problems)


# --------------------------------------------------------------------------------------------------
# Reading bytes


class _Input:
    """Uniform, re-openable access to the bytes of a source, without reading a path into memory."""

    def __init__(self, source: Source):
        self.path: Path | None = None
        self.data: bytes | None = None
        self.fileobj: BinaryIO | None = None
        if isinstance(source, (bytes, bytearray, memoryview)):
            self.data = bytes(source)
            self.size = len(self.data)
        elif isinstance(source, (str, os.PathLike)):
            self.path = Path(source)
            self.size = self.path.stat().st_size
        elif hasattr(source, "read") and hasattr(source, "seek"):
            self.fileobj = source
            self.size = source.seek(0, os.SEEK_END)
            source.seek(0)
        else:
            raise TypeError(f"cannot read a table from {type(source).__name__}")

    def open(self) -> BinaryIO:
        """A binary stream at offset 0. Closing it never closes a caller's file object."""
        if self.path is not None:
            return open(self.path, "rb")
        if self.data is not None:
            return io.BytesIO(self.data)
        self.fileobj.seek(0)
        return io.BufferedReader(_Unclosable(self.fileobj), _BLOCK)

    def head(self, n: int) -> bytes:
        with self.open() as f:
            return f.read(n)


class _Unclosable(io.RawIOBase):
    """Wraps a caller's file object so that our readers' close() leaves it open."""

    def __init__(self, f: BinaryIO):
        self._f = f

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self._f.read(len(b))
        b[: len(data)] = data
        return len(data)

    def tell(self) -> int:
        return self._f.tell()


_MAGIC = (
    (b"%PDF", _("这是 PDF 文件")),
    (b"\x89PNG", _("这是 PNG 图片")),
    (b"\xff\xd8\xff", _("这是 JPEG 图片")),
    (b"GIF8", _("这是 GIF 图片")),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", _("这是旧版 Excel（.xls）、WPS 或加密的 Office 文件，请在 Excel 中另存为 .xlsx")),
    (b"Rar!", _("这是 RAR 压缩包")),
    (b"7z\xbc\xaf", _("这是 7z 压缩包")),
    (b"\x1f\x8b", _("这是 gzip 压缩包")),
    (b"{\\rtf", _("这是 RTF 文档")),
)
# Bytes that are not control characters, plus the harmless controls (BEL, BS, tab, LF, VT, FF, CR, ESC,
# SUB). Deleting these from a sample leaves the suspicious controls, which text files do not contain.
_TEXT_BYTES = bytes({7, 8, 9, 10, 11, 12, 13, 26, 27} | set(range(0x20, 0x100)))


def _not_spreadsheet(what=None) -> FileRejected:
    if what is None:
        return FileRejected("not_spreadsheet", _("不是电子表格（CSV 或 XLSX）"))
    return FileRejected("not_spreadsheet", _("不是电子表格（CSV 或 XLSX）：%(what)s"), what=what)


def _bad_encoding(detail=None) -> FileRejected:
    if detail is None:
        return FileRejected("bad_encoding", _("不是 UTF-8 或 GB18030 编码的文本文件。请在 Excel 中另存为“CSV UTF-8”或 .xlsx"))
    return FileRejected("bad_encoding",
                        _("不是 UTF-8 或 GB18030 编码的文本文件：%(detail)s。请在 Excel 中另存为“CSV UTF-8”或 .xlsx"),
                        detail=detail)


def _no_data_rows(header_row: int) -> FileRejected:
    return FileRejected("no_data_rows", _("只有表头，没有数据行"), row=header_row)


def _sniff(head: bytes) -> str:
    """'xlsx' or 'text' from the first bytes; refuse what is recognisably something else."""
    if _sniff_zip(head):  # a zip archive, as XLSX is
        return "xlsx"
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise _not_spreadsheet(what)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _bad_encoding(_("这是 UTF-16 编码"))
    controls = len(head.translate(None, _TEXT_BYTES))
    if b"\x00" in head or controls > len(head) // 100 + 2:
        raise _not_spreadsheet(_("这是二进制文件"))
    return "text"


# Enough valid multi-byte UTF-8 before the first bad byte that the file cannot be GB18030 text: GBK
# Chinese almost never forms valid UTF-8 for more than a couple of characters, so such a file is a
# damaged UTF-8 file, and reading it as GB18030 would store garbled names without any error.
_UTF8_EVIDENCE = 64


def _utf8_start(head: bytes) -> bool:
    """Whether these first bytes of a file are strict UTF-8 (a character cut off at their end allowed)."""
    try:
        codecs.getincrementaldecoder("utf-8-sig")("strict").decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _detect_encoding(inp: _Input) -> str:
    """``utf-8-sig`` if every byte decodes strictly as UTF-8, else ``gb18030`` if that decodes strictly.

    Both checks stream the whole file in blocks (strict means strict to the last byte, and a row
    must never be handed out before the encoding is known) without keeping the text.
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    multibyte = newlines = 0
    with inp.open() as f:
        try:
            while block := f.read(_BLOCK):
                text = decoder.decode(block)
                multibyte += len(block) - len(text)
                newlines += block.count(b"\n")
            decoder.decode(b"", final=True)
            return "utf-8-sig"
        except UnicodeDecodeError as exc:
            # exc.object is the decoder's carried-over bytes followed by this block.
            good = block[: max(exc.start - (len(exc.object) - len(block)), 0)]
            good_text = good.decode("utf-8", "ignore")
            multibyte += len(good_text.encode()) - len(good_text)
            newlines += good.count(b"\n")
    if multibyte >= _UTF8_EVIDENCE or inp.head(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8:
        # A file that starts with UTF-8's byte order mark says it is UTF-8.
        raise _bad_encoding(Message(_("文件是 UTF-8 编码，但第 %(line)s 行附近有无效字节（可能混入了其他编码的内容）"),
                                    line=newlines + 1))
    decoder = codecs.getincrementaldecoder("gb18030")("strict")
    with inp.open() as f:
        try:
            while block := f.read(_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise _bad_encoding() from None
    return "gb18030"


def _sniff_delimiter(first_line: str) -> str:
    """Comma unless the header line clearly uses tabs or semicolons (exports from some bank systems)."""
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _cell_text(v: Any) -> str:
    """An XLSX cell as the text a user sees, so every column goes through the same string parsers.

    Numbers keep Excel's 15 significant digits (0.1+0.2 shows as 0.3) and never use an exponent;
    date cells become ISO dates, so a date column accepts date cells and serial numbers alike.
    """
    t = type(v)
    if t is str:
        return v
    if t is float:
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        s = format(v, ".15g")
        return format(Decimal(s), "f") if "e" in s else s
    if t is bool:
        return "TRUE" if v else "FALSE"
    if t is int:
        return str(v)
    if t is dt.datetime:
        return v.isoformat(sep=" ")
    if t is dt.date or t is dt.time:
        return v.isoformat()
    return "" if v is None else str(v)


class Table:
    """A decoded spreadsheet: its header and a re-iterable stream of data rows, all cells as text.

    Made by :func:`read_table`. ``format`` is ``"csv"`` or ``"xlsx"``; ``encoding`` the detected text
    encoding (CSV only); ``header_row`` the spreadsheet row of the header (the first non-blank row).
    """

    def __init__(self, inp: _Input, filename: str, fmt: str, encoding: str | None = None):
        self._input = inp
        self.filename = filename
        self.format = fmt
        self.encoding = encoding
        self.bytes_total = inp.size
        self.delimiter = ","
        self.header: list[str] = []
        self.header_row = 0
        self.has_rows = False
        self._book: xlsx.Workbook | None = None
        self._tell: Callable[[], int] | None = None
        self._rows_seen = 0

    @property
    def bytes_done(self) -> int:
        """How far the current iteration has read, for progress reports (approximate)."""
        if self._tell is not None:
            try:
                return min(self._tell(), self.bytes_total)
            except (OSError, ValueError):
                return self.bytes_total
        book = self._book
        if book is not None and book.sheet_size:
            return self.bytes_total * min(book.sheet_done, book.sheet_size) // book.sheet_size
        return 0

    def _raw_rows(self) -> Iterator[tuple[int, list[str]]]:
        """Every row including blanks, numbered from 1."""
        if self.format == "xlsx":
            try:
                for rowno, cells in self._book.rows():
                    yield rowno, [_cell_text(v) for v in cells]
            except xlsx.WorkbookRefused as exc:
                raise _workbook_refused(exc) from None
            return
        with self._input.open() as raw:
            text = io.TextIOWrapper(raw, encoding=self.encoding, errors="strict", newline="")
            self._tell = raw.tell
            rowno = 0
            try:
                for cells in csv.reader(text, delimiter=self.delimiter):
                    rowno += 1
                    yield rowno, cells
            except UnicodeDecodeError:
                # Only a reading that took the encoding from the file's start meets one (``utf8_head``).
                raise _bad_encoding(Message(_("第 %(line)s 行附近有无效字节"), line=rowno + 1)) from None
            except csv.Error as exc:
                raise FileRejected(
                    "bad_csv", _("第 %(rowno)s 行附近 CSV 格式错误（%(exc)s），常见原因是引号不成对"), row=rowno + 1,
                    rowno=rowno + 1, exc=exc,
                ) from None
            finally:
                self._tell = None
                text.detach()

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Data rows after the header as ``(row_number, cells)``; blank rows are skipped."""
        for rowno, cells in self._raw_rows():
            if rowno > self.header_row and cells and "".join(cells).strip():
                yield rowno, cells

    __iter__ = rows

    def _read_header(self) -> None:
        rows = self._raw_rows()
        try:
            for rowno, cells in rows:
                if cells and "".join(cells).strip():
                    if not self.header_row:
                        self.header_row, self.header = rowno, [_clean(c) for c in cells]
                        _refuse_nul_in_header(self.header, rowno)
                    else:
                        self.has_rows = True
                        break
        finally:
            rows.close()


def _refuse_nul_in_header(header: list[str], rowno: int) -> None:
    for i, text in enumerate(header, 1):
        if "\x00" in text:
            raise FileRejected("nul_character", _("第 %(rowno)s 行（表头）第 %(col)s 列含有空字符（NUL）"),
                               row=rowno, rowno=rowno, col=i)


def _workbook_refused(exc: xlsx.WorkbookRefused) -> FileRejected:
    if exc.code == "not_workbook":
        return _not_spreadsheet(_("这是无法读取的压缩文件（不是 XLSX 工作簿）"))
    return FileRejected(exc.code, exc.msgid, **exc.params)


def unpacked_size(source: str | os.PathLike) -> int:
    """The bytes there are to read in a file: its size, or for an XLSX workbook what its parts unpack to
    (as its archive declares them; nothing is inflated). Decides whether an upload is read at once."""
    path = Path(source)
    with open(path, "rb") as f:
        zipped = _sniff_zip(f.read(4))
    return max(path.stat().st_size, xlsx.declared_size(str(path)) if zipped else 0)


def _sniff_zip(head: bytes) -> bool:
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06"))


def read_table(source: Source, filename: str | None = None, *, require_rows: bool = True,
               utf8_head: bool = False) -> Table:
    """Open an upload as a :class:`Table`, deciding by content whether it is XLSX or CSV.

    Refuses (``FileRejected``) a file that is not a spreadsheet (PDF, image, ``.xls``, binary), a CSV
    that is neither strict UTF-8 (BOM optional) nor strict GB18030 (nor GB18030 when it starts with a
    UTF-8 BOM), a workbook that would unpack beyond ``core.xlsx``'s bounds, an empty file, a NUL in the
    header, and, unless
    ``require_rows`` is false, a file with a header but no data rows. Only the header and the first
    data row are read here; rows are streamed by :meth:`Table.rows`. The bytes decide the format,
    not the extension (a CSV renamed ``.xlsx`` is still read); ``filename`` is kept for the record.

    ``utf8_head``: a CSV whose first 64 KB are strict UTF-8 is taken as UTF-8 without reading the rest,
    for a caller that reads the whole file as strict UTF-8 itself and gives up at a bad byte (the
    columnar pass: polars refuses one; the rows are then read here, with the whole file's check).
    """
    inp = _Input(source)
    if filename is None:
        filename = inp.path.name if inp.path else getattr(source, "name", "") or ""
    head = inp.head(65536)
    if not head.strip(b" \t\r\n\x0c\x0b") or head == codecs.BOM_UTF8:
        raise FileRejected("empty_file", _("空文件"))
    if _sniff(head) == "xlsx":
        table = Table(inp, filename, "xlsx")
        if inp.path is not None:
            archive = str(inp.path)
        else:
            with inp.open() as f:
                archive = io.BytesIO(f.read())
        try:
            table._book = xlsx.Workbook(archive)
        except xlsx.WorkbookRefused as exc:
            raise _workbook_refused(exc) from None
    else:
        encoding = "utf-8-sig" if utf8_head and _utf8_start(head) else _detect_encoding(inp)
        table = Table(inp, filename, "csv", encoding)
        with inp.open() as f:
            first = f.read(65536).decode(table.encoding, "ignore").lstrip("\r\n")
        table.delimiter = _sniff_delimiter(first.split("\n", 1)[0])
    table._read_header()
    if not table.header_row:
        raise FileRejected("empty_file", _("空文件"))
    if require_rows and not table.has_rows:
        raise _no_data_rows(table.header_row)
    return table


# --------------------------------------------------------------------------------------------------
# Parsing rows


class Chunk(NamedTuple):
    """Up to ``chunk_size`` rows read: the good ones parsed, and the errors of the bad ones.

    ``bad`` holds the bad rows as far as they parsed (a cell that did not parse, or a column the file
    lacks, is None), so that checks against the database still look at what they can read of them:
    a refused file's report names every problem at once."""

    rows: list[dict]
    errors: list[RowError]
    bad: list[dict] | tuple = ()


RowValidator = Callable[[dict], Iterable[tuple]]  # (column, message) or (column, message, params)

EXAMPLE_ROW = _("这是上传模板中的示例行，请删除后再上传")


class _Example:
    """The template's example row (``Column.example``), in either language, as the parser of a file
    with this header recognises it: every column of the file that has an example holds it (as text,
    or as the value it parses to: Excel may have turned ``1,000.00`` into ``1000``)."""

    def __init__(self, schema: Schema, match: HeaderMatch):
        self.plan = []
        for col in schema.columns:
            if col.key not in match.positions:
                continue
            texts, values, unparsed = set(), [], False
            for language in (ZH, EN):
                text = _clean(render(col.example, None, language)) if col.example else ""
                texts.add(text)
                try:
                    value = col.parser(text) if text else None
                except (CellError, ValueError):
                    unparsed = True  # e.g. a district the database does not hold: compared as text
                    continue
                if value not in values:
                    values.append(value)
            self.plan.append((col.key, match.positions[col.key], texts, values, bool(col.example), unparsed))
        self.active = any(step[4] for step in self.plan)
        # Words (a lazy example, "示例-2020-0001") first: most rows differ there, at the first look.
        words = {c.key for c in schema.columns if isinstance(c.example, Promise)}
        self.plan.sort(key=lambda step: step[0] not in words)

    def matches(self, cells: list[str], out: dict, failed: set[str]) -> bool:
        for key, i, texts, values, _marked, unparsed in self.plan:
            if key not in failed and out[key] in values:
                continue
            if (unparsed or key in failed) and _clean(cells[i] if i < len(cells) else "") in texts:
                continue
            return False
        return True


class _RowParser:
    """Parses rows against a matched header, keeping what must span chunks (the keys already seen).

    Every problem of a row is reported: each cell's, then the row validator's on what did parse (a
    blank, missing or unreadable cell is None there; a validator's error on a column whose cell is
    already in error is left out, and a validator that cannot run without the cells that failed is
    skipped), then a repeated key when the key's cells parsed. A row that is the template's example
    gets that one error (``EXAMPLE_ROW``) instead."""

    def __init__(self, schema: Schema, match: HeaderMatch, table: Table,
                 row_validator: RowValidator | None, key: Sequence[str] | None):
        self.positions = match.positions
        self.plan = [
            (c.key, match.positions[c.key], c.parser, c.required)
            for c in schema.columns if c.key in match.positions
        ]
        self.template = {ROW: 0, **{c.key: None for c in schema.columns}}
        # In a CSV, cells beyond the header usually mean an unquoted comma (1,000.00) shifted the row.
        self.width = len(table.header) if table.format == "csv" else None
        self.row_validator = row_validator
        # Required columns the file lacks: a validator then meets None where it expects a value.
        self.incomplete = any(c.required and c.key not in match.positions for c in schema.columns)
        example = _Example(schema, match)
        self.example = example if example.active else None
        self.key = tuple(key) if key else None
        if self.key:
            unknown = [k for k in self.key if k not in self.template]
            if unknown:
                raise ValueError(f"key columns not in schema {schema.name}: {unknown}")
        self.seen: dict[Hashable, int] = {}

    def raw(self, cells: list[str], key: str | None) -> str:
        i = self.positions.get(key) if key else None
        return cells[i] if i is not None and i < len(cells) else ""

    def __call__(self, rowno: int, cells: list[str], rows: list[dict], errors: list[RowError],
                 bad: list[dict] | None = None) -> None:
        n = len(cells)
        if self.width is not None and n > self.width and "".join(cells[self.width:]).strip():
            errors.append(RowError.of(
                rowno, None, ",".join(cells[self.width:]),
                _("本行有 %(n)s 个单元格，多于表头的 %(width)s 列（金额中的千分位逗号是否未加引号？）"),
                n=n, width=self.width,
            ))
            return
        out = self.template.copy()
        out[ROW] = rowno
        found: list[RowError] = []
        for key, i, parse, required in self.plan:
            raw = cells[i] if i < n else ""
            value = raw.strip() if raw else ""
            if value and (value[0] in _INVISIBLE or value[-1] in _INVISIBLE):
                value = _clean(value)
            if not value:
                if required:
                    found.append(RowError.of(rowno, key, raw, _("必填项为空")))
                continue
            if "\x00" in value:  # text no database column takes (PostgreSQL refuses it)
                found.append(RowError.of(rowno, key, raw, NUL_IN_CELL))
                continue
            try:
                out[key] = parse(value)
            except CellError as exc:
                found.append(RowError.of(rowno, key, raw, exc.msgid, **exc.params))
        failed = {e.column for e in found} if found else _NOTHING_FAILED
        if self.example is not None and self.example.matches(cells, out, failed):
            errors.append(RowError.of(rowno, None, "", EXAMPLE_ROW))
            return
        if self.row_validator is not None:
            problems = []
            try:
                for problem in self.row_validator(out) or ():
                    problems.append(problem)
            except Exception:
                if not (failed or self.incomplete):
                    raise
                # A check that needs a cell this row lacks; what it found before is kept.
            for column, message, *params in problems:
                if column not in failed:
                    found.append(RowError.of(rowno, column, self.raw(cells, column), message,
                                             **(params[0] if params else {})))
        if self.key is not None:
            k = _compact_key([out[c] for c in self.key])
            if k is not None:
                first = self.seen.setdefault(k, rowno)
                if first != rowno:
                    shown = ", ".join(f"{c}={out[c]}" for c in self.key)
                    found.append(RowError.of(
                        rowno, self.key[0], self.raw(cells, self.key[0]),
                        _("与第 %(first)s 行重复（%(shown)s）"), first=first, shown=shown,
                    ))
        if found:
            errors.extend(found)
            if bad is not None:
                bad.append(out)
        else:
            rows.append(out)


_NOTHING_FAILED: frozenset[str] = frozenset()

NUL_IN_CELL = _("含有空字符（NUL），无法保存，请删除后重新上传")


def _compact_key(values: list) -> Hashable | None:
    """A row's key as one small object (None when part of it is blank).

    The keys of every row stay in memory for the whole file; a single string costs a third of a
    tuple of strings. Length prefixes keep the joined form exact: ("ab", "c") ≠ ("a", "bc").
    """
    if None in values:
        return None
    if len(values) == 1:
        return values[0]
    if all(type(v) is str for v in values):
        return "".join(f"{len(v)}:{v}" for v in values)
    return tuple(values)


Progress = Callable[[int, int, int], None]


def _as_table(source: Source | Table, filename: str | None) -> Table:
    return source if isinstance(source, Table) else read_table(source, filename)


def iter_chunks(
    source: Source | Table,
    schema: Schema,
    chunk_size: int = 50_000,
    *,
    filename: str | None = None,
    row_validator: RowValidator | None = None,
    key: Sequence[str] | None = None,
    progress: Progress | None = None,
    strict_header: bool = False,
) -> Iterator[Chunk]:
    """Stream a file as :class:`Chunk` s of at most ``chunk_size`` data rows each.

    Only one chunk of parsed rows is in memory at a time (plus the keys seen, when ``key`` is given),
    so a large CSV is never held whole as Python objects. Each chunk's ``rows`` holds the good rows
    (dicts of key → value, with the row number under :data:`ROW`); ``errors`` the problems of the
    bad ones, which are left out of ``rows``. ``row_validator`` and ``key`` work as in
    :func:`validate`. ``progress(rows_done, bytes_done, bytes_total)`` is called after each chunk.
    An upload is one unit: a caller stores the rows only if no chunk had errors. To see the header's
    unknown columns first, pass a :class:`Table` and call ``schema.match(table.header)``.

    The header's problems (a required column missing, a column given twice: ``Schema.match``'s
    ``problems``) are errors of the first chunk, and the rows are read all the same, by the columns
    that are there, so that one report names every problem of the file. With ``strict_header`` they
    refuse the file instead (``FileRejected``).
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    table = _as_table(source, filename)
    match = schema.match(table.header, table.header_row, strict=strict_header)
    parse_row = _RowParser(schema, match, table, row_validator, key)
    rows: list[dict] = []
    errors: list[RowError] = list(match.problems)
    bad: list[dict] = []
    done = 0
    for rowno, cells in table.rows():
        parse_row(rowno, cells, rows, errors, bad)
        done += 1
        if done % chunk_size == 0:
            if progress is not None:
                progress(done, table.bytes_done, table.bytes_total)
            yield Chunk(rows, errors, bad)
            rows, errors, bad = [], [], []
    if done == 0:
        raise _no_data_rows(table.header_row)
    if progress is not None:
        progress(done, table.bytes_total, table.bytes_total)
    if rows or errors:
        yield Chunk(rows, errors, bad)


@dataclass
class Result:
    """A whole file validated: the good rows, every error, and what the header looked like.

    ``ok`` is true when there is no error at all; an upload stores ``rows`` only then.
    ``columns`` maps each schema key found to its header text in the file. ``bad`` holds the rows with
    errors as far as they parsed (``Chunk.bad``), for the caller's checks against what it holds.
    """

    rows: list[dict]
    errors: list[RowError]
    unknown_columns: list[str]
    columns: dict[str, str]
    row_count: int
    format: str
    encoding: str | None = None
    bad: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_rows(self) -> list[int]:
        """The row numbers that have at least one error, in order."""
        return sorted({e.row for e in self.errors})


def validate(
    source: Source | Table,
    schema: Schema,
    row_validator: RowValidator | None = None,
    key: Sequence[str] | None = None,
    *,
    filename: str | None = None,
    progress: Progress | None = None,
) -> Result:
    """Read and check a whole file, collecting every error rather than stopping at the first.

    Each cell goes through its column's parser; a blank required cell is an error. For rows whose
    cells all parsed, ``row_validator(row)`` may return problems across fields (e.g. maturity after
    start) as ``(column, message)`` or ``(column, message, params)``: a msgid and its params. With
    ``key`` (e.g. ``("uscc",)``), every row whose key values equal
    those of an earlier row is an error naming the earlier row, whether or not the rest of the row
    differs: within one file a key identifies one row, and we do not guess which copy is meant.
    Rows with a blank or unreadable key part are not compared. Every error of every row is reported,
    and the header's (a required column missing, one given twice: row ``header_row``) with them,
    the rows read by the columns that are there; other problems of the file as a whole raise
    :class:`FileRejected`.
    """
    table = _as_table(source, filename)
    match = schema.match(table.header, table.header_row, strict=False)
    rows: list[dict] = []
    errors: list[RowError] = []
    bad: list[dict] = []
    for chunk in iter_chunks(table, schema, row_validator=row_validator, key=key, progress=progress):
        rows.extend(chunk.rows)
        errors.extend(chunk.errors)
        bad.extend(chunk.bad)
    # every data row is either good or has an error (the header's are on its own row)
    count = len(rows) + len({e.row for e in errors if e.row > table.header_row})
    return Result(rows, errors, match.unknown_columns, match.headers, count, table.format, table.encoding, bad)


# --------------------------------------------------------------------------------------------------
# Writing


# The report of a refused file is read by people of either language: both are in it, side by side.
ERROR_REPORT_HEADER = ("行号 row", "列 column", "值 value", "原因（中文）", "reason (English)")

FORMULA_START = _FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_LIKE = re.compile(r"[+-]?[\d,]*\.?\d+")
_XLSX_STRING_MAX = 32767


def _csv_text(v: Any, escape_formulas: bool) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        # A cell starting with = + - @ is run as a formula when the CSV is opened in Excel; values
        # echoed from uploads must never execute there.
        if escape_formulas and v.startswith(_FORMULA_START) and not _NUMBER_LIKE.fullmatch(v):
            return "'" + v
        return v
    if isinstance(v, bool):
        return "Y" if v else "N"
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(SHANGHAI).replace(tzinfo=None)
        return v.isoformat(sep=" ", timespec="seconds")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


class _XlsxSheet:
    """Writes typed values into an xlsxwriter sheet: text stays text, numbers and dates stay numeric.

    A Decimal is shown with its own decimal places and thousands separators (an amount in yuan, two
    places: ``#,##0.00``); a date as a date, a moment in Beijing time."""

    def __init__(self, workbook, worksheet):
        self.ws, self.workbook = worksheet, workbook
        self.date = workbook.add_format({"num_format": formats.XLSX_DATE})
        self.datetime = workbook.add_format({"num_format": formats.XLSX_DATETIME})
        self.numbers: dict[int, object] = {}

    def _number_format(self, places: int):
        """The cell format of a Decimal with ``places`` decimals."""
        if places not in self.numbers:
            self.numbers[places] = self.workbook.add_format({"num_format": formats.xlsx_number_format(places)})
        return self.numbers[places]

    def write_row(self, r: int, values: Sequence[Any], fmt=None) -> None:
        ws = self.ws
        for c, v in enumerate(values):
            if v is None:
                continue
            if isinstance(v, str):
                ws.write_string(r, c, v[:_XLSX_STRING_MAX], fmt)
            elif isinstance(v, bool):
                ws.write_string(r, c, "Y" if v else "N", fmt)
            elif isinstance(v, (int, Decimal)):
                # Excel holds 15 significant digits: larger numbers (IDs, huge sums) stay exact as text.
                exact = abs(v) < 10**15 if isinstance(v, int) else len(v.as_tuple().digits) <= 15
                if exact and isinstance(v, Decimal):
                    exponent = v.as_tuple().exponent
                    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
                    ws.write_number(r, c, float(v), self._number_format(places))
                elif exact:
                    ws.write_number(r, c, float(v), fmt)
                else:
                    ws.write_string(r, c, _csv_text(v, False), fmt)
            elif isinstance(v, float):
                ws.write_number(r, c, v, fmt)
            elif isinstance(v, dt.datetime):
                if v.tzinfo is not None:
                    v = v.astimezone(SHANGHAI).replace(tzinfo=None)
                ws.write_datetime(r, c, v, self.datetime)
            elif isinstance(v, dt.date):
                ws.write_datetime(r, c, v, self.date)
            else:
                ws.write_string(r, c, str(v), fmt)


def _xlsx_workbook(path: Path):
    import xlsxwriter

    return xlsxwriter.Workbook(str(path), {
        "constant_memory": True,  # rows are flushed as written: a million-row export stays small in memory
        "strings_to_numbers": False,
        "strings_to_formulas": False,  # text from uploads is never run as a formula
        "strings_to_urls": False,
    })


def _is_xlsx(path: Path) -> bool:
    ext = path.suffix.lower()
    if ext == ".xlsx":
        return True
    if ext in (".csv", ".txt"):
        return False
    raise ValueError(f"unsupported spreadsheet extension {ext!r}: use .csv or .xlsx")


def _too_many_rows(count: int | None) -> ValidationFailed:
    if count is None:
        return ValidationFailed("too_many_rows_for_xlsx",
                                _("XLSX 最多容纳 %(limit)s 行数据，本次导出超过此行数：请改用 CSV 格式"),
                                limit=formats.count(XLSX_MAX_DATA_ROWS))
    return ValidationFailed("too_many_rows_for_xlsx",
                            _("XLSX 最多容纳 %(limit)s 行数据，本次导出有 %(count)s 行：请改用 CSV 格式"),
                            limit=formats.count(XLSX_MAX_DATA_ROWS), count=formats.count(count))


def write_rows(
    path: str | os.PathLike,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    escape_formulas: bool = True,
) -> int:
    """Write an export by the path's extension and return the number of data rows written.

    ``.csv``: UTF-8 with BOM (so Excel shows Chinese), dates ISO, Decimals exact, booleans Y/N;
    with ``escape_formulas`` a text cell that Excel would run as a formula gets a leading ``'``.
    ``.xlsx``: xlsxwriter in constant-memory mode, numbers and dates as typed cells, text never a
    formula. More than :data:`XLSX_MAX_DATA_ROWS` rows for XLSX raises ``ValidationFailed``
    (``too_many_rows_for_xlsx``) and leaves no file behind.
    """
    path = Path(path)
    if not _is_xlsx(path):
        n = 0
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow([_csv_text(h, escape_formulas) for h in headers])
            for row in rows:
                writer.writerow([_csv_text(v, escape_formulas) for v in row])
                n += 1
        return n
    if hasattr(rows, "__len__") and len(rows) > XLSX_MAX_DATA_ROWS:
        raise _too_many_rows(len(rows))
    workbook = _xlsx_workbook(path)
    sheet = _XlsxSheet(workbook, workbook.add_worksheet())
    bold = workbook.add_format({"bold": True})
    sheet.write_row(0, [str(h) for h in headers], bold)
    n = 0
    try:
        for n, row in enumerate(rows, 1):
            if n > XLSX_MAX_DATA_ROWS:
                raise _too_many_rows(None)
            sheet.write_row(n, row)
    except BaseException:
        workbook.close()
        path.unlink(missing_ok=True)
        raise
    workbook.close()
    return n


def write_sheets(path: str | os.PathLike, sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> Path:
    """A workbook of several sheets, each (name, headers, rows), typed as ``write_rows`` types them (a report's
    tables: its figures, then each breakdown). Names are cut to Excel's 31 characters."""
    path = Path(path)
    workbook = _xlsx_workbook(path)
    bold = workbook.add_format({"bold": True})
    try:
        for name, headers, rows in sheets:
            sheet = _XlsxSheet(workbook, workbook.add_worksheet(str(name)[:31]))
            sheet.write_row(0, [str(h) for h in headers], bold)
            for n, row in enumerate(rows, 1):
                if n > XLSX_MAX_DATA_ROWS:
                    raise _too_many_rows(None)
                sheet.write_row(n, row)
    except BaseException:
        workbook.close()
        path.unlink(missing_ok=True)
        raise
    workbook.close()
    return path


def write_error_report(
    errors: Iterable[RowError], path: str | os.PathLike, schema: Schema | None = None
) -> Path:
    """Write the errors as a spreadsheet (``.xlsx`` or ``.csv`` by extension), sorted by row.

    Columns are :data:`ERROR_REPORT_HEADER`. With ``schema`` the column is shown as
    ``中文表头 / key`` so the user finds it in either language; row 0 (a whole-file problem) is blank.
    Control characters in a value (a NUL) are shown by their pictures (␀), so that the report is text.
    An XLSX report holds at most :data:`XLSX_MAX_DATA_ROWS` errors (``ValidationFailed`` beyond).
    """
    path = Path(path)
    names = {c.key: f"{c.zh} / {c.key}" for c in schema.columns} if schema else {}
    lines = (
        (e.row or None, names.get(e.column, e.column) if e.column else "", _visible(e.value), e.zh, e.en)
        for e in sorted(errors, key=lambda e: e.row)
    )
    write_rows(path, ERROR_REPORT_HEADER, lines)
    return path


# C0 controls but tab and line breaks, and DEL, to the Control Pictures block (U+2400…): NUL → ␀.
_PICTURES = {c: 0x2400 + c for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))} | {0x7F: 0x2421}


def _visible(value: str) -> str:
    return value.translate(_PICTURES) if isinstance(value, str) and not value.isprintable() else value


def write_template(schema: Schema, path: str | os.PathLike, lang: str = "zh") -> Path:
    """Write the upload template of ``schema`` as ``.csv`` or ``.xlsx``: column names in ``zh`` or ``en``
    (what the file's header says, either is accepted), every other word in the active language.

    Both hold the header (Chinese or English column names) and the example row (``Column.example``:
    words marked as an example, in the template's language). A file that still holds the example row
    when it is uploaded is refused on that row (``EXAMPLE_ROW``): it is never stored as data.

    The workbook adds, after the data sheet (which stays first: an upload reads the first sheet):
    an instructions sheet (each column's meaning, whether it is required, its format, the values it
    takes and its example) and a code-list sheet (the values of each coded column: choices and
    reference data, ``Column.code_list``). The data sheet's coded columns get drop-downs from the code
    list, its date, number and text columns data validation (Excel warns, and lets another accepted
    spelling through); text columns are formatted as text so Excel keeps identifiers and leading zeros.
    """
    if lang not in ("zh", "en"):
        raise ValueError("lang must be 'zh' or 'en'")
    path = Path(path)
    header = [c.zh if lang == "zh" else c.key for c in schema.columns]
    example = [_example_text(c) for c in schema.columns]
    if not _is_xlsx(path):
        write_rows(path, header, [example] if any(example) else [])
        return path
    _write_template_workbook(schema, path, header, example)
    return path


def _example_text(col: Column) -> str:
    return str(col.example) if col.example else ""


def _template_kind(col: Column) -> str | None:
    return getattr(col.parser, "kind", None)


def _format_text(col: Column, coded: bool = False) -> str:
    """What the instructions sheet says of a column's format (``coded``: it has a code list)."""
    kind, parser = _template_kind(col), col.parser
    if coded:
        return str(_("从代码表中选择"))
    if kind == "date":
        return str(_("日期，如 2020-03-01（也可填 2020/3/1、20200301 或 Excel 日期）"))
    if kind == "int":
        return str(_("整数"))
    if kind == "decimal":
        places = getattr(parser, "places", None)
        return str(_("数字，最多 %(places)s 位小数") % {"places": places}) if places is not None else str(_("数字"))
    if kind == "text" and getattr(parser, "max_len", None):
        return str(_("文本，最多 %(n)s 个字符") % {"n": parser.max_len})
    return str(_("文本"))


def _range_text(col: Column) -> str:
    kind, parser = _template_kind(col), col.parser
    if kind == "date":
        return str(_("%(lo)s 至 %(hi)s") % {"lo": parser.min_date.isoformat(), "hi": parser.max_date.isoformat()})
    if kind not in ("int", "decimal"):
        return ""
    lo, hi = getattr(parser, "lo", None), getattr(parser, "hi", None)
    if lo is not None and hi is not None and not getattr(parser, "min_exclusive", False):
        return str(_("%(lo)s 至 %(hi)s") % {"lo": lo, "hi": hi})
    parts = []
    if lo is not None:
        parts.append(str((_("大于 %(lo)s") if getattr(parser, "min_exclusive", False) else _("不小于 %(lo)s"))
                         % {"lo": lo}))
    if hi is not None:
        parts.append(str(_("不大于 %(hi)s") % {"hi": hi}))
    return str(_("，")).join(parts)


_SHOWN_CODES = 12  # more values than this: the instructions point to the code list


def _write_template_workbook(schema: Schema, path: Path, header: list[str], example: list[str]) -> None:
    import xlsxwriter
    from xlsxwriter.utility import xl_col_to_name

    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                               "strings_to_urls": False})
    data = workbook.add_worksheet(schema.name[:31])
    notes = workbook.add_worksheet(str(_("填写说明"))[:31])
    codes_sheet = workbook.add_worksheet(str(_("代码表"))[:31])
    codes_ref = "'" + codes_sheet.get_name().replace("'", "''") + "'"
    bold = workbook.add_format({"bold": True})
    required_head = workbook.add_format({"bold": True, "bg_color": "#FDE9D9"})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    formats = {"text": workbook.add_format({"num_format": "@"}),
               "date": workbook.add_format({"num_format": "yyyy-mm-dd"})}
    example_style = {"italic": True, "font_color": "#7F7F7F"}
    example_formats = {"text": workbook.add_format({**example_style, "num_format": "@"}),
                       "date": workbook.add_format({**example_style, "num_format": "yyyy-mm-dd"}),
                       None: workbook.add_format(example_style)}
    last_row = XLSX_MAX_DATA_ROWS

    # The code list: two columns (value, name) per coded column, side by side.
    code_lists = {col.key: col.code_list() for col in schema.columns}
    lists: dict[str, str] = {}
    c = 0
    for col, title in zip(schema.columns, header):
        values = code_lists[col.key]
        if not values:
            continue
        named = any(name for _value, name in values)  # reference data has names; choices are their words
        codes_sheet.write_string(0, c, title, bold)
        codes_sheet.set_column(c, c, 16)
        if named:
            codes_sheet.write_string(0, c + 1, str(_("名称")), bold)
            codes_sheet.set_column(c + 1, c + 1, 28)
        for r, (value, name) in enumerate(values, 1):
            codes_sheet.write_string(r, c, value)
            if name:
                codes_sheet.write_string(r, c + 1, name)
        letter = xl_col_to_name(c)
        lists[col.key] = f"={codes_ref}!${letter}$2:${letter}${len(values) + 1}"
        c += 3 if named else 2
    codes_sheet.freeze_panes(1, 0)

    # The data sheet: the header, the example row, and each column's validation.
    for i, (col, title) in enumerate(zip(schema.columns, header)):
        kind = _template_kind(col)
        width = max(12, sum(2 if ord(ch) > 0x2E7F else 1 for ch in title) + 2,
                    sum(2 if ord(ch) > 0x2E7F else 1 for ch in example[i]) + 2)
        data.set_column(i, i, min(width, 40), formats.get(kind))
        data.write_string(0, i, title, required_head if col.required else bold)
        if any(example):
            _write_example_cell(data, i, col, example[i], example_formats)
        validation = _validation(col, lists.get(col.key))
        if validation:
            data.data_validation(1, i, last_row, i, validation)
    data.freeze_panes(1, 0)
    if any(example):
        data.write_comment(1, 0, str(_("第 2 行是示例，仅供参照填写：上传前请删除这一行。")), {"x_scale": 2, "y_scale": 1.2})

    # The instructions.
    notes.set_column(0, 0, 22)
    notes.set_column(1, 1, 40)
    notes.set_column(2, 2, 10)
    notes.set_column(3, 3, 36)
    notes.set_column(4, 4, 40)
    notes.set_column(5, 5, 24)
    notes.write_string(0, 0, str(_("填写说明")), bold)
    lines = [
        _("第 1 行是表头，请勿修改；可以用中文或英文表头，列的顺序不限，多出的列会被忽略。"),
        _("第 2 行是示例，仅供参照填写：上传前请删除这一行，否则整个文件会被拒绝。"),
        _("每行一条记录。标为“必填”的列每行都要填写；有代码表的列请从下拉列表或“代码表”工作表中选择。"),
        _("上传的文件有错误时整个文件不入库，错误报告会一次列出每一行、每一列的全部问题。"),
    ]
    for r, line in enumerate(lines, 1):
        notes.write_string(r, 0, str(line))
    top = len(lines) + 2
    titles = [_("列名"), _("含义"), _("是否必填"), _("格式"), _("允许的值"), _("示例")]
    for c, t in enumerate(titles):
        notes.write_string(top, c, str(t), bold)
    for r, (col, title) in enumerate(zip(schema.columns, header), top + 1):
        values = code_lists[col.key]
        if not values:
            allowed = _range_text(col)
        elif len(values) <= _SHOWN_CODES:
            allowed = str(_("、")).join(v for v, _name in values)
        else:
            allowed = str(_("共 %(n)s 个，见“%(sheet)s”工作表") % {"n": len(values), "sheet": codes_sheet.get_name()})
        cells = [title, str(col.help) if col.help else "", str(_("必填") if col.required else _("选填")),
                 _format_text(col, bool(values)), allowed, example[r - top - 1]]
        for c, text in enumerate(cells):
            notes.write_string(r, c, text, wrap)
    notes.freeze_panes(top + 1, 0)
    data.activate()
    workbook.close()


def _write_example_cell(ws, i: int, col: Column, text: str, formats: dict) -> None:
    kind = _template_kind(col)
    if not text:
        ws.write_blank(1, i, None, formats.get(kind, formats[None]))
        return
    try:
        value = col.parser(text)
    except (CellError, ValueError):
        value = None
    if kind == "date" and isinstance(value, dt.date):
        ws.write_datetime(1, i, dt.datetime.combine(value, dt.time()), formats["date"])
    elif kind in ("int", "decimal") and value is not None:
        ws.write_number(1, i, float(value), formats[None])
    else:
        ws.write_string(1, i, text, formats.get(kind, formats[None]))


def _validation(col: Column, source: str | None) -> dict | None:
    """The data validation of a column of the template's data sheet (Excel warns; it does not refuse)."""
    kind, parser = _template_kind(col), col.parser
    warn = {"error_type": "warning", "ignore_blank": True}
    if source is not None:
        return {"validate": "list", "source": source, **warn, "error_title": str(_("不在代码表中"))[:32],
                "error_message": str(_("请从下拉列表或“代码表”工作表中选择。"))[:255]}
    if kind == "date":
        return {"validate": "date", "criteria": "between",
                "minimum": dt.datetime.combine(parser.min_date, dt.time()),
                "maximum": dt.datetime.combine(parser.max_date, dt.time()), **warn,
                "error_title": str(_("不是有效日期"))[:32],
                "error_message": str(_("请填写 %(lo)s 至 %(hi)s 之间的日期，如 2020-03-01。")
                                     % {"lo": parser.min_date.isoformat(), "hi": parser.max_date.isoformat()})[:255]}
    if kind in ("int", "decimal"):
        lo, hi = getattr(parser, "lo", None), getattr(parser, "hi", None)
        what = "integer" if kind == "int" else "decimal"
        message = {"error_title": str(_("数值不符合要求"))[:32],
                   "error_message": str(_("，")).join(t for t in (_format_text(col), _range_text(col)) if t)[:255]}
        if lo is not None and hi is not None:
            return {"validate": what, "criteria": "between", "minimum": float(lo), "maximum": float(hi), **warn,
                    **message}
        if lo is not None:
            criteria = ">" if getattr(parser, "min_exclusive", False) else ">="
            return {"validate": what, "criteria": criteria, "value": float(lo), **warn, **message}
        if hi is not None:
            return {"validate": what, "criteria": "<=", "value": float(hi), **warn, **message}
        return None
    if kind == "text" and getattr(parser, "max_len", None):
        return {"validate": "length", "criteria": "<=", "value": parser.max_len, **warn,
                "error_title": str(_("文本过长"))[:32], "error_message": _format_text(col)[:255]}
    return None


def file_digest(source: Source) -> str:
    """SHA-256 of the file's bytes (hex): the same upload twice has the same digest."""
    digest = hashlib.sha256()
    with _Input(source).open() as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()
