"""Official identifiers: 统一社会信用代码 (GB 32100-2015) and 居民身份证号码 (GB 11643-1999).

Pure functions, no Django. Every bad input raises ``ValidationFailed`` naming the field, the value
and the rule it broke; nothing is ever repaired beyond trimming surrounding whitespace and
upper-casing (see shared/domain/identifiers.md).
"""

from __future__ import annotations

import datetime
import random

from django.utils.translation import gettext_lazy as _

from huiqi.core.errors import ValidationFailed

# --- 统一社会信用代码 -------------------------------------------------------------------------

#: The 31 symbols of GB 32100; a symbol's value is its index. No I, O, S, V, Z.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_FORBIDDEN_LETTERS = "IOSVZ"
USCC_LENGTH = 18
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

#: GB 11714 values its characters by index in this alphabet (A=10 … Z=35), not in USCC_ALPHABET.
ORG_CODE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

USCC_KIND_PREFIX = {"enterprise": "91", "individual_business": "92"}

_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_ORG_VALUE = {ch: i for i, ch in enumerate(ORG_CODE_ALPHABET)}

# Spreadsheet cells and pasted text carry ideographic (U+3000) and no-break spaces as padding.
_PADDING = " \t\r\n\v\f\u3000\u00a0\u2002\u2003\u2009\u200b\ufeff"


def _strip_padding(raw: str) -> str:
    return raw.strip(_PADDING)


def normalize_uscc(raw: str) -> str:
    """Trim surrounding whitespace (full-width spaces included) and upper-case. Never validates."""
    return _strip_padding(raw).upper()


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character (position 18) for the first 17 characters.

    ``first17`` must be 17 symbols of ``USCC_ALPHABET``; otherwise ``ValueError``.
    """
    if len(first17) != 17 or any(ch not in _USCC_VALUE for ch in first17):
        raise ValueError(f"uscc_check_char needs 17 USCC symbols, got {first17!r}")
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(first17, USCC_WEIGHTS))
    v = 31 - total % 31
    return USCC_ALPHABET[0 if v == 31 else v]


def org_code_check_char(first8: str) -> str:
    """The GB 11714 organisation-code check character for its first 8 characters: 0-9 or X.

    ``first8`` must be 8 characters of ``0-9A-Z``; otherwise ``ValueError``.
    """
    if len(first8) != 8 or any(ch not in _ORG_VALUE for ch in first8):
        raise ValueError(f"org_code_check_char needs 8 characters of 0-9A-Z, got {first8!r}")
    total = sum(_ORG_VALUE[ch] * w for ch, w in zip(first8, ORG_CODE_WEIGHTS))
    v = 11 - total % 11
    if v == 10:
        return "X"
    if v == 11:
        return "0"
    return str(v)


def validate_uscc(raw: str, field: str = "uscc") -> str:
    """Return the normalized USCC, or raise ``ValidationFailed``.

    Codes: ``uscc.required`` (empty), ``uscc.charset`` (a character outside the 31-symbol
    alphabet, forbidden letters I O S V Z and internal spaces included), ``uscc.length`` (not 18),
    ``uscc.division`` (positions 3–8 not digits), ``uscc.org_check`` (position 17, the
    organisation code's own check character), ``uscc.check`` (position 18).
    """
    if raw is None or not isinstance(raw, str):
        raise ValidationFailed(
            "uscc.required", _("统一社会信用代码不能为空"), field=field, value=raw,
        )
    code = normalize_uscc(raw)
    if not code:
        raise ValidationFailed(
            "uscc.required", _("统一社会信用代码不能为空"), field=field, value=raw,
        )
    for pos, ch in enumerate(code, start=1):
        if ch in _USCC_VALUE:
            continue
        if ch.isspace() or ch in _PADDING:
            message = _("统一社会信用代码 %(uscc)s 第 %(pos)s 位含有空格，代码中间不得有空格")
        elif ch in USCC_FORBIDDEN_LETTERS:
            message = _("统一社会信用代码 %(uscc)s 第 %(pos)s 位含有字母 %(ch)s，代码不使用 I、O、S、V、Z")
        else:
            message = _("统一社会信用代码 %(uscc)s 第 %(pos)s 位含有非法字符 %(ch)s，只允许数字和大写字母（不含 I、O、S、V、Z）")
        raise ValidationFailed("uscc.charset", message, field=field, value=raw, uscc=repr(code), pos=pos,
                               ch=repr(ch) if ch not in USCC_FORBIDDEN_LETTERS else ch)
    if len(code) != USCC_LENGTH:
        raise ValidationFailed(
            "uscc.length", _("统一社会信用代码 %(uscc)s 应为 18 位，实为 %(code_len)s 位"), field=field, value=raw,
            uscc=repr(code), code_len=len(code),
        )
    division = code[2:8]
    if not division.isdigit():
        raise ValidationFailed(
            "uscc.division", _("统一社会信用代码 %(uscc)s 第 3–8 位应为行政区划代码（6 位数字），实为 %(division)s"), field=field,
            value=raw, uscc=repr(code), division=division,
        )
    org_expected = org_code_check_char(code[8:16])
    if code[16] != org_expected:
        raise ValidationFailed(
            "uscc.org_check",
            _("统一社会信用代码 %(uscc)s 第 17 位（组织机构代码校验码）应为 %(org_expected)s，实为 %(code_16)s"), field=field,
            value=raw, uscc=repr(code), org_expected=org_expected, code_16=code[16],
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise ValidationFailed(
            "uscc.check", _("统一社会信用代码 %(uscc)s 第 18 位校验码应为 %(expected)s，实为 %(code_17)s"), field=field,
            value=raw, uscc=repr(code), expected=expected, code_17=code[17],
        )
    return code


def uscc_entity_kind(uscc: str) -> str:
    """'enterprise' for prefix 91, 'individual_business' for 92, else 'other'. Does not validate."""
    prefix = normalize_uscc(uscc)[:2]
    for kind, p in USCC_KIND_PREFIX.items():
        if prefix == p:
            return kind
    return "other"


def generate_uscc(rng: random.Random, kind: str = "enterprise", division: str = "440300") -> str:
    """A random USCC that passes ``validate_uscc``: prefix 91/92 by ``kind``, the given division,
    8 random organisation-code symbols, their check character, then the final check character.
    """
    if kind not in USCC_KIND_PREFIX:
        raise ValueError(f"kind must be one of {sorted(USCC_KIND_PREFIX)}, got {kind!r}")
    if len(division) != 6 or not division.isdigit():
        raise ValueError(f"division must be 6 digits, got {division!r}")
    # Draw from the USCC alphabet so every organisation character is also a legal USCC symbol;
    # the organisation check character is a digit or X, both of which are in it too.
    org8 = "".join(rng.choice(USCC_ALPHABET) for _ in range(8))
    first17 = USCC_KIND_PREFIX[kind] + division + org8 + org_code_check_char(org8)
    return first17 + uscc_check_char(first17)


# --- 居民身份证号码 ---------------------------------------------------------------------------

RESIDENT_ID_LENGTH = 18
RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK_MAP = "10X98765432"

#: Mainland province-level codes of GB/T 2260.
MAINLAND_PROVINCE_CODES = frozenset(
    f"{n:02d}"
    for lo, hi in ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65))
    for n in range(lo, hi + 1)
)
#: Leading codes of resident ID numbers: mainland, Taiwan (71) and the residence permits of
#: Hong Kong (81), Macao (82) and Taiwan (83) residents.
RESIDENT_ID_PROVINCE_CODES = MAINLAND_PROVINCE_CODES | {"71", "81", "82", "83"}
#: 2023 foreigner's permanent-residence ID: '9' + the province of the issuing (mainland) office.
FOREIGNER_PROVINCE_CODES = MAINLAND_PROVINCE_CODES

# No living borrower was born before this; a year like 0101 is a typo, not a birth date.
EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)


def resident_id_check_char(first17: str) -> str:
    """The GB 11643 check character (0-9 or X) for 17 digits; ``ValueError`` otherwise."""
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise ValueError(f"resident_id_check_char needs 17 digits, got {first17!r}")
    total = sum(int(ch) * w for ch, w in zip(first17, RESIDENT_ID_WEIGHTS))
    return RESIDENT_ID_CHECK_MAP[total % 11]


def validate_resident_id(
    raw: str, field: str = "resident_id", today: datetime.date | None = None
) -> str:
    """Return the normalized 18-character ID number (trimmed, 'x' upper-cased) or raise
    ``ValidationFailed``.

    Codes: ``resident_id.required``, ``resident_id.legacy_15`` (first-generation 15-digit number),
    ``resident_id.length``, ``resident_id.format`` (17 digits then a digit or X),
    ``resident_id.province`` (leading province code, or '9' + mainland province code),
    ``resident_id.birth_date`` (not a real date, before 1900, or after ``today``),
    ``resident_id.check``. Error messages never echo the full number: it is personal data.
    """
    if raw is None or not isinstance(raw, str) or not _strip_padding(raw):
        raise ValidationFailed(
            "resident_id.required", _("身份证号码不能为空"), field=field
        )
    value = _strip_padding(raw).upper()
    shown = mask_resident_id(value)
    if len(value) == 15 and value.isascii() and value.isdigit():
        raise ValidationFailed(
            "resident_id.legacy_15", _("身份证号码 %(shown)s 为 15 位第一代身份证号码，已于 2013 年停止使用，请提供 18 位号码"),
            field=field, shown=shown,
        )
    if len(value) != RESIDENT_ID_LENGTH:
        raise ValidationFailed(
            "resident_id.length", _("身份证号码 %(shown)s 应为 18 位，实为 %(value_len)s 位"), field=field, shown=shown,
            value_len=len(value),
        )
    body, last = value[:17], value[17]
    if not (body.isascii() and body.isdigit()) or last not in "0123456789X":
        raise ValidationFailed(
            "resident_id.format", _("身份证号码 %(shown)s 格式错误：前 17 位应为数字，第 18 位应为数字或 X"), field=field,
            shown=shown,
        )
    if value[0] == "9":
        if value[1:3] not in FOREIGNER_PROVINCE_CODES:
            raise ValidationFailed(
                "resident_id.province", _("外国人永久居留身份证号码 %(shown)s 第 2–3 位应为省级行政区划代码，实为 %(value_part)s"),
                field=field, shown=shown, value_part=value[1:3],
            )
    elif value[:2] not in RESIDENT_ID_PROVINCE_CODES:
        raise ValidationFailed(
            "resident_id.province", _("身份证号码 %(shown)s 前 2 位 %(value_part)s 不是有效的省级行政区划代码"), field=field,
            shown=shown, value_part=value[:2],
        )
    digits = value[6:14]
    try:
        born = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise ValidationFailed(
            "resident_id.birth_date", _("身份证号码 %(shown)s 的出生日期 %(digits)s 不是有效日期"), field=field, shown=shown,
            digits=digits,
        ) from None
    today = today or datetime.date.today()
    if born > today:
        raise ValidationFailed(
            "resident_id.birth_date", _("身份证号码 %(shown)s 的出生日期 %(digits)s 晚于今天 %(today)s"), field=field,
            shown=shown, digits=digits, today=format(today, "%Y%m%d"),
        )
    if born < EARLIEST_BIRTH_DATE:
        raise ValidationFailed(
            "resident_id.birth_date", _("身份证号码 %(shown)s 的出生日期 %(digits)s 早于 1900 年，不可能有效"), field=field,
            shown=shown, digits=digits,
        )
    expected = resident_id_check_char(body)
    if last != expected:
        raise ValidationFailed(
            "resident_id.check", _("身份证号码 %(shown)s 第 18 位校验码应为 %(expected)s，实为 %(last)s"), field=field,
            shown=shown, expected=expected, last=last,
        )
    return value


def mask_resident_id(resident_id: str) -> str:
    """Show only the first 4 and last 4 characters: '4403**********123X'.

    Any other length (bad input) is masked too: at most a quarter of it each end stays visible.
    """
    value = _strip_padding(resident_id or "").upper()
    n = len(value)
    keep = 4 if n == RESIDENT_ID_LENGTH else min(4, n // 4)
    return value[:keep] + "*" * (n - 2 * keep) + (value[n - keep:] if keep else "")


def resident_id_birth_date(resident_id: str) -> datetime.date:
    """The birth date of a valid ID number; ``ValidationFailed`` if the number is not valid."""
    value = validate_resident_id(resident_id)
    return datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def generate_resident_id(
    rng: random.Random,
    birth_year_range: tuple[int, int] = (1960, 2000),
    address: str = "440305",
) -> str:
    """A random ID number that passes ``validate_resident_id``: the given 6-digit address code, a
    birth date uniform over ``birth_year_range`` (inclusive, never after today), a sequence 001–999.
    """
    if len(address) != 6 or not address.isdigit() or address[:2] not in RESIDENT_ID_PROVINCE_CODES:
        raise ValueError(f"address must be 6 digits starting with a province code, got {address!r}")
    lo_year, hi_year = birth_year_range
    start = max(datetime.date(lo_year, 1, 1), EARLIEST_BIRTH_DATE)
    end = min(datetime.date(hi_year, 12, 31), datetime.date.today())
    if start > end:
        raise ValueError(f"birth_year_range {birth_year_range!r} holds no date between 1900 and today")
    born = start + datetime.timedelta(days=rng.randint(0, (end - start).days))
    first17 = f"{address}{born:%Y%m%d}{rng.randint(1, 999):03d}"
    return first17 + resident_id_check_char(first17)
