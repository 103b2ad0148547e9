"""What the programs' headless commands share: their result files written whole or not at all, plain CSV,
the overrides file of a simulation, and a day given on the command line."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path

from django.core.management import CommandError


def replace_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary name of its own and rename, so a reader never sees half a file and two
    writers of the same file (two downloads of a lost one) never write into each other's."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)  # suffix: format
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_csv(path: Path, header: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """A result file as the specs write them: UTF-8 without BOM, comma, "\\n", a header line."""
    def write(tmp: Path):
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)

    replace_atomically(path, write)


def parse_day(text: str, what_zh: str = "日期", what_en: str = "the date") -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(f"{what_zh} {text!r} 不是 YYYY-MM-DD 格式的日期 "
                           f"{what_en} {text!r} is not a YYYY-MM-DD date") from None


def read_overrides(path: Path) -> dict:
    """A simulation's parameter overrides: a JSON object of name → value, numbers read exactly."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CommandError(f"参数文件不存在 parameter file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"无法读取参数文件 {path}（须为 UTF-8） cannot read parameter file {path} "
                           f"(must be UTF-8): {exc}") from None
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise CommandError(f"参数文件 {path} 不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}） "
                           f"parameter file {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                           f"{exc.msg})") from None
    if not isinstance(data, dict):
        raise CommandError(f"参数文件 {path} 必须是 名称→取值 的 JSON 对象 "
                           f"parameter file {path} must be a JSON object of name → value")
    return data
