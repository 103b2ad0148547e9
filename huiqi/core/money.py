"""Money: whole fen (分) in the database, Decimal yuan in Python, never float.

Rounding happens only in a program's rules, where its spec says, with the mode named; the helpers
here refuse to round silently. Writing an amount for people is ``core.formats``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN_PER_YUAN = 100
FEN_PER_WAN_YUAN = 1_000_000  # 万元 (10,000 yuan)


def yuan_to_fen(amount: Decimal | int | str) -> int:
    """Exact conversion; raises ValueError when the amount has fractions of a fen."""
    value = Decimal(str(amount)) * FEN_PER_YUAN
    if value != value.to_integral_value():
        raise ValueError(f"{amount} yuan is not a whole number of fen")
    return int(value)


def wan_to_fen(amount: Decimal | int | str) -> int:
    """万元 → fen, exact; raises ValueError below a fen."""
    value = Decimal(str(amount)) * FEN_PER_WAN_YUAN
    if value != value.to_integral_value():
        raise ValueError(f"{amount} 万元 is not a whole number of fen")
    return int(value)


def fen_to_yuan(fen: int | None) -> Decimal | None:
    if fen is None:
        return None
    return (Decimal(fen) / FEN_PER_YUAN).quantize(Decimal("0.01"))


def fen_to_wan(fen: int | None) -> Decimal | None:
    """fen → 万元 with all the precision it has (up to six places), trailing zeros trimmed."""
    if fen is None:
        return None
    value = Decimal(fen) / FEN_PER_WAN_YUAN
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


def round_fen(amount: Decimal, rounding: str = ROUND_HALF_UP) -> int:
    """Round a Decimal number of fen to a whole fen with the named mode (callers must name it)."""
    try:
        return int(Decimal(amount).quantize(Decimal(1), rounding=rounding))
    except InvalidOperation as exc:  # pragma: no cover - defensive
        raise ValueError(f"not an amount: {amount!r}") from exc


# How an amount is written for people (separators, 万元/亿元, rounding for display) is core.formats.
