"""Interest subsidy (中小微企业贷款贴息): which loans count, how much each beneficiary is owed and paid.

Pure functions over plain values, no Django, no database; shared/specs/interest-subsidy.md is the
contract and its worked example is a test. Money is whole fen (int); amounts that are not yet
rounded (counted interest, the rationing factor) are exact ``fractions.Fraction`` values. Rounding
happens in exactly two places, both named by the spec:

- a loan's subsidy: ``rate × Σ counted interest`` rounded once, half-up (ties away from zero), to the fen;
- a rationed payment: ``due × left / Σ due`` floored to the fen.

Choices the spec leaves open, decided here:

- The registry, not the bank, says what a registered borrower is. A loan reported as ``enterprise``
  whose borrower the registry lists as an individual business is judged as an individual business,
  and the other way round (so a mislabelled large enterprise still gets ``borrower_large``). The
  bank's ``borrower_kind`` decides only whether the loan is a small-business owner's
  (``business_owner``: judged through ``owner_of``) or a registered entity's.
- Ineligible loans carry ``interest_counted`` and ``subsidy_fen`` of ``None`` (the spec's "–").
- With rationing ``none`` a batch pays every due in full even beyond the budget left; the result
  says so with ``over_budget`` and a negative ``unspent``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from itertools import repeat
from operator import itemgetter
from typing import NamedTuple

from django.utils.translation import gettext_lazy as _

from huiqi.core.errors import ValidationFailed
from huiqi.core.months import add_months  # noqa: F401  (the rules count periods with it; re-exported)
# The borrower's rules are the ledger's, shared with the risk-compensation pool (re-exported here).
from huiqi.lending.rules import (  # noqa: F401
    BORROWER_KINDS, BORROWER_REASONS, REGISTRY_KINDS, RegistryEntry, borrower_reason,
)

PURPOSES = ("operating", "other")
RATIONING_MODES = ("pro_rata", "none")

# Reason codes in the order the spec checks them; a loan carries the first that fails.
REASONS = {
    "purpose_not_operating": _("贷款用途不是经营性"),
    "outside_window": _("放款日期不在疫情期间窗口内"),
    **BORROWER_REASONS,
}

# The parameters' names for people: messages and pages show these, never the names in the code.
PARAMETER_LABELS = {
    "window_start": _("新增贷款窗口起"),
    "window_end": _("新增贷款窗口止"),
    "rate": _("贴息比例"),
    "months": _("贴息月数"),
    "cap": _("每户上限（元）"),
    "cap_fen": _("每户上限（分）"),
    "budget": _("总预算（元）"),
    "budget_fen": _("总预算（分）"),
    "rationing": _("超预算处理"),
    "program_end": _("项目结束日"),
}

RATIONING_LABELS = {"pro_rata": _("按比例分配"), "none": _("全额支付")}



def describe_params(values: Mapping[str, object]) -> list[tuple[object, object]]:
    """(label, value) of parameters as the spec names them, as people read them (rationing by its name)."""
    return [(PARAMETER_LABELS.get(name, name), RATIONING_LABELS.get(v, v) if name == "rationing" else v)
            for name, v in values.items()]


PARAMETER_NAMES = ("window_start", "window_end", "rate", "months", "cap", "budget", "rationing",
                   "program_end")

# The spec's defaults, JSON-ready as the app stores them (dated parameters; money in 元 as text).
# ``program_end`` is the platform's, not the spec's: the last day a batch's cutoff may take. The last
# subsidy periods end on 2020-12-30, and the interest on their last days is paid (and reported) into
# 2021, as are payments a bank reported failed and a later batch owes again; after it, a cutoff is a
# typing error. The bureau extends it with a new dated row.
DEFAULTS: Mapping[str, object] = {
    "window_start": "2020-02-01",
    "window_end": "2020-06-30",
    "rate": "0.5",
    "months": 6,
    "cap": "1000000.00",
    "budget": "2000000000.00",
    "rationing": "pro_rata",
    "program_end": "2021-12-31",
}

# --------------------------------------------------------------------------------------------------
# Small exact helpers


def round_half_up(x: Fraction | int) -> int:
    """Round an exact number of fen to a whole fen, ties away from zero (Decimal's ROUND_HALF_UP).

    In whole numbers (a batch rounds every loan's counted interest, 300,000 of them, and Fraction's
    arithmetic took most of the time): floor(n/d + 1/2) = (2n + d) // 2d."""
    if type(x) is int:
        return x
    if type(x) is not Fraction:
        x = Fraction(x)
    n, d = x.numerator, x.denominator
    if n < 0:
        return -((d - 2 * n) // (2 * d))
    return (2 * n + d) // (2 * d)


def floor_to_fen(x: Fraction | int) -> int:
    """Largest whole fen not above ``x``."""
    return math.floor(Fraction(x))


def fen_str(fen: int | None) -> str:
    """'1234.56' for the CSV outputs: two decimals, no thousands separator; '' for a missing amount."""
    if fen is None:
        return ""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"fen_str takes whole fen (int), not {type(fen).__name__}")
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"


# --------------------------------------------------------------------------------------------------
# Parameters


def _is_fen(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bad(field: str, message, value: object = None, **params) -> ValidationFailed:
    """An error of parameter ``field``; a ``name`` placeholder that gives the field shows its label."""
    if params.get("name") == field:
        params["name"] = PARAMETER_LABELS.get(field, field)
    return ValidationFailed(f"subsidy.params.{field}", message, field=field, value=value, **params)


def _parse_date(name: str, value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        raise _bad(name, _("%(name)s 必须是日期而不是时间"), value=value, name=name)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _bad(name, _("%(name)s 不是 YYYY-MM-DD 格式的日期"), value=value, name=name)


def _parse_decimal(name: str, value: object) -> Decimal:
    # Floats are refused: they are how money drifts. JSON readers should use parse_float=Decimal.
    if isinstance(value, (bool, float)) or not isinstance(value, (Decimal, int, str)):
        raise _bad(name, _("%(name)s 必须以文本给出（不接受浮点数）"), value=value, name=name)
    try:
        result = Decimal(value.replace(",", "").strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        result = None
    if result is None or not result.is_finite():
        raise _bad(name, _("%(name)s 不是数字"), value=value, name=name)
    return result


def _parse_fen(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(name, _("%(name)s 必须是整数（分）"), value=value, name=name)
    return value


def _yuan_to_fen(name: str, value: object) -> int:
    amount = _parse_decimal(name, value) * 100
    if amount != amount.to_integral_value():
        raise _bad(name, _("%(name)s 不是整分的金额"), value=value, name=name)
    return int(amount)


@dataclass(frozen=True)
class Params:
    """The program's numbers in force for one batch (or a simulation's overrides of them)."""

    window_start: dt.date
    window_end: dt.date
    rate: Decimal
    months: int
    cap_fen: int
    budget_fen: int
    rationing: str = "pro_rata"
    program_end: dt.date | None = None  # None: the default (``DEFAULTS``)

    def __post_init__(self):
        if self.program_end is None:
            object.__setattr__(self, "program_end", _parse_date("program_end", DEFAULTS["program_end"]))
        for name in ("window_start", "window_end", "program_end"):
            value = getattr(self, name)
            if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
                raise _bad(name, _("%(name)s 必须是日期"), value=value, name=name)
        if self.window_end < self.window_start:
            raise _bad("window_end", _("窗口结束日期早于开始日期"), value=self.window_end)
        if self.program_end < self.window_end:
            raise _bad("program_end", _("项目结束日（%(program_end)s）早于窗口结束日期（%(window_end)s）"),
                       value=self.program_end, program_end=self.program_end, window_end=self.window_end)
        if not isinstance(self.rate, Decimal) or not self.rate.is_finite() or not 0 <= self.rate <= 1:
            raise _bad("rate", _("贴息比例必须是 0 到 1 之间的数"), value=self.rate)
        if isinstance(self.months, bool) or not isinstance(self.months, int) or self.months < 1:
            raise _bad("months", _("贴息月数必须是正整数"), value=self.months)
        for name in ("cap_fen", "budget_fen"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise _bad(name, _("%(name)s 必须是非负整数（分）"), value=value, name=name)
        if self.rationing not in RATIONING_MODES:
            raise _bad("rationing", _("超预算处理方式必须是按比例分配（pro_rata）或全额支付（none）"), value=self.rationing)

    @classmethod
    def from_mapping(cls, d: Mapping[str, object]) -> Params:
        """Build from the spec's names: dates as ``date`` or 'YYYY-MM-DD', rate as str/Decimal, cap and
        budget in 元 (str/Decimal/int; ``cap_fen``/``budget_fen`` as int fen instead). All are required
        but ``program_end`` (a value stored before it existed takes the default); unknown names are refused
        so that a typo in an override file is not silently ignored."""
        allowed = set(PARAMETER_NAMES) | {"cap_fen", "budget_fen"}
        unknown = sorted(set(d) - allowed)
        if unknown:
            raise _bad(unknown[0], _("未知参数 %(unknown)s"), unknown=", ".join(unknown))
        values: dict[str, object] = {}
        for name in ("window_start", "window_end"):
            if name not in d:
                raise _bad(name, _("缺少参数 %(name)s"), name=name)
            values[name] = _parse_date(name, d[name])
        if "program_end" in d:
            values["program_end"] = _parse_date("program_end", d["program_end"])
        for name in ("rate", "months", "rationing"):
            if name not in d:
                raise _bad(name, _("缺少参数 %(name)s"), name=name)
        values["rate"] = _parse_decimal("rate", d["rate"])
        months = d["months"]
        if isinstance(months, str) and months.strip().isdigit():
            months = int(months.strip())
        values["months"] = months
        values["rationing"] = d["rationing"]
        for name in ("cap", "budget"):
            in_fen = _parse_fen(f"{name}_fen", d[f"{name}_fen"]) if f"{name}_fen" in d else None
            in_yuan = _yuan_to_fen(name, d[name]) if name in d else None
            if in_fen is None and in_yuan is None:
                raise _bad(name, _("缺少参数 %(name)s"), name=name)
            if in_fen is not None and in_yuan is not None and in_fen != in_yuan:
                raise _bad(name, _("%(name)s 与 %(name)s_fen 不一致"), value=d[name], name=name)
            values[f"{name}_fen"] = in_fen if in_fen is not None else in_yuan
        return cls(**values)

    @classmethod
    def defaults(cls) -> Params:
        return cls.from_mapping(DEFAULTS)

    def as_mapping(self) -> dict[str, object]:
        """The spec's names, JSON-ready (the inverse of ``from_mapping``)."""
        return {
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "rate": str(self.rate),
            "months": self.months,
            "cap": fen_str(self.cap_fen),
            "budget": fen_str(self.budget_fen),
            "rationing": self.rationing,
            "program_end": self.program_end.isoformat(),
        }

    def with_overrides(self, overrides: Mapping[str, object]) -> Params:
        """These parameters with some replaced (a simulation's overrides, by the same names)."""
        base = self.as_mapping()
        for name in ("cap", "budget"):
            if f"{name}_fen" in overrides:
                base.pop(name)
        return Params.from_mapping({**base, **overrides})


def check_cutoff(cutoff: dt.date, params: Params) -> dt.date:
    """``cutoff`` when it lies inside the program's dates under ``params``: from the window's start
    (before it no payment can count) to ``program_end``. A cutoff only ever increases from batch to
    batch, so one far in the future would block every later run once released."""
    if not params.window_start <= cutoff <= params.program_end:
        raise ValidationFailed(
            "subsidy.cutoff_outside_program",
            _("截止日期 %(cutoff)s 不在项目期内：须在贴息窗口起始日 %(window_start)s 至项目结束日 %(program_end)s 之间（项目参数）"),
            field="cutoff", value=cutoff.isoformat(), cutoff=cutoff, window_start=params.window_start,
            program_end=params.program_end,
        )
    return cutoff


# --------------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class Loan:
    """One loan of the bank ledger, as far as the subsidy needs it."""

    bank_code: str
    loan_no: str
    borrower_id: str  # USCC, or a resident ID for a business owner; the beneficiary
    borrower_kind: str  # enterprise | individual_business | business_owner
    owner_of: str | None  # business_owner only: USCC of the enterprise owned
    purpose: str  # operating | other
    start_date: dt.date
    extension_of: str | None = None
    borrower_name: str = ""

    def __post_init__(self):
        if self.borrower_kind not in BORROWER_KINDS:
            raise ValueError(f"borrower_kind must be one of {BORROWER_KINDS}, not {self.borrower_kind!r}")
        if self.purpose not in PURPOSES:
            raise ValueError(f"purpose must be one of {PURPOSES}, not {self.purpose!r}")
        if not isinstance(self.start_date, dt.date) or isinstance(self.start_date, dt.datetime):
            raise ValueError("start_date must be a date")

    @property
    def key(self) -> tuple[str, str]:
        return (self.bank_code, self.loan_no)


@dataclass(frozen=True)
class Payment:
    """One interest payment for ``[accrual_start, accrual_end)`` (算头不算尾)."""

    bank_code: str
    loan_no: str
    accrual_start: dt.date
    accrual_end: dt.date
    paid_date: dt.date
    interest_fen: int

    def __post_init__(self):
        if self.accrual_end <= self.accrual_start:
            raise ValueError(f"accrual [{self.accrual_start}, {self.accrual_end}) is empty")
        if not _is_fen(self.interest_fen) or self.interest_fen < 0:
            raise ValueError(f"interest_fen must be a non-negative int, not {self.interest_fen!r}")

    @property
    def loan_key(self) -> tuple[str, str]:
        return (self.bank_code, self.loan_no)


# --------------------------------------------------------------------------------------------------
# Rules


def eligibility(loan: Loan, registry: Mapping[str, RegistryEntry], params: Params) -> str | None:
    """The first failing reason code of the spec's list for ``loan``, or None when the loan counts."""
    if loan.purpose != "operating":
        return "purpose_not_operating"
    # An extension is judged by its own start_date like any new loan (展期视同新增).
    if not params.window_start <= loan.start_date <= params.window_end:
        return "outside_window"
    return borrower_reason(loan.borrower_kind, loan.borrower_id, loan.owner_of, registry)


def subsidy_period(loan: Loan, params: Params) -> tuple[dt.date, dt.date]:
    """The half-open ``[start_date, start_date + months)`` whose interest is subsidised."""
    return loan.start_date, add_months(loan.start_date, params.months)


def counted_interest(payment: Payment, loan: Loan, params: Params, cutoff: dt.date) -> Fraction:
    """Exact fen of ``payment`` inside the loan's subsidy period (interest × overlap days / days);
    zero when it was paid after ``cutoff``."""
    if payment.loan_key != loan.key:
        raise ValueError(f"payment of {payment.loan_key} given with loan {loan.key}")
    if payment.paid_date > cutoff:
        return Fraction(0)
    start, end = subsidy_period(loan, params)
    overlap = (min(payment.accrual_end, end) - max(payment.accrual_start, start)).days
    if overlap <= 0:
        return Fraction(0)
    days = (payment.accrual_end - payment.accrual_start).days
    return Fraction(payment.interest_fen * overlap, days)


def loan_subsidy_fen(total_counted: Fraction, rate: Decimal | Fraction) -> int:
    """``rate × total_counted`` (fen, exact), rounded once half-up to the fen."""
    if isinstance(rate, float):
        raise TypeError("rate must be a Decimal or Fraction, never a float")
    return round_half_up(Fraction(rate) * Fraction(total_counted))


# --------------------------------------------------------------------------------------------------
# Batch


class LoanLine(NamedTuple):
    """One loan's result. A named tuple, not a frozen dataclass: a city batch makes 300,000 of them and
    a tuple is built four times faster."""

    bank_code: str
    loan_no: str
    beneficiary_id: str
    eligible: bool
    reason: str | None
    interest_counted: Fraction | int | None  # exact fen (an int when whole); None when the loan does not count
    subsidy_fen: int | None

    @property
    def interest_counted_fen(self) -> int | None:
        """Counted interest rounded half-up to the fen, for display only."""
        return None if self.interest_counted is None else round_half_up(self.interest_counted)


class BeneficiaryLine(NamedTuple):
    """One beneficiary's result (a named tuple, for the same reason as LoanLine)."""

    beneficiary_id: str
    name: str
    kind: str
    loans_counted: int
    interest_counted: Fraction | int  # exact fen (an int when whole)
    subsidy_before_cap: int
    entitlement: int
    paid_before: int
    due: int
    payable: int
    overpayment: int  # paid before beyond the entitlement: to recover, never a negative payment

    @property
    def interest_counted_fen(self) -> int:
        """Counted interest rounded half-up to the fen, for display only."""
        return round_half_up(self.interest_counted)


class Lines(Sequence):
    """Result lines held as columns, one list per field of ``kind`` (a named tuple), each line built as
    that tuple when it is read. Equal to any sequence of the same lines, a tuple of them included.

    Why: a city batch has 300,000 loan lines. Built as tuples, they were 300,000 objects that the
    cyclic garbage collector then scanned again and again (the columns are a few lists of strings and
    numbers, which it does not follow); a reader that goes through the lines once builds each tuple and
    drops it at once.

    A column may also be given as the column of a frame it was computed in (anything with ``to_list()``,
    e.g. a polars Series): it becomes a list when first read as one, and :meth:`given` hands it on as it
    is (the recorded run writes a city's lines from the frame's columns, with no list in between)."""

    __slots__ = ("kind", "_columns", "_n")

    def __init__(self, kind: type, columns: Sequence):
        if len(columns) != len(kind._fields) or len({len(c) for c in columns}) > 1:
            raise ValueError(f"{kind.__name__}: one column of the same length per field")
        self.kind, self._columns = kind, list(columns)
        self._n = len(self._columns[0]) if self._columns else 0

    @property
    def columns(self) -> tuple[list, ...]:
        """Every field's column as a list, in the fields' order."""
        columns = self._columns
        for i, column in enumerate(columns):
            if type(column) is not list:
                columns[i] = column.to_list()
        return tuple(columns)

    def __len__(self) -> int:
        return self._n

    def __iter__(self):
        return map(tuple.__new__, repeat(self.kind), zip(*self.columns))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(self)[index]
        if index < 0:
            index += self._n
        if not 0 <= index < self._n:
            raise IndexError("line index out of range")
        return tuple.__new__(self.kind, [c[index] for c in self.columns])

    def column(self, field: str) -> list:
        """One field of every line, in order (the list itself: not to be changed)."""
        i = self.kind._fields.index(field)
        column = self._columns[i]
        if type(column) is not list:
            column = self._columns[i] = column.to_list()
        return column

    def given(self, field: str):
        """One field of every line as it was given: a list, or the column of a frame (not to be changed)."""
        return self._columns[self.kind._fields.index(field)]

    def __eq__(self, other):
        if not isinstance(other, (Sequence)) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    def __hash__(self):
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"Lines({self.kind.__name__}, {self._n} lines)"


@dataclass(frozen=True)
class BatchResult:
    params: Params
    cutoff: dt.date
    loans: Sequence[LoanLine]  # by (bank_code, loan_no): a tuple, or Lines
    beneficiaries: Sequence[BeneficiaryLine]  # by beneficiary_id: a tuple, or Lines
    due_total: int
    payable_total: int
    overpayment_total: int
    budget_left: int  # budget − spent before this batch (negative if the budget was lowered below it)
    rationing_factor: Fraction | None  # max(left, 0) / Σ due when rationed pro rata, else None
    unspent: int  # budget_left − payable_total; negative only when over budget, now or before
    over_budget: bool  # this batch pays more than the budget left (only with rationing 'none')

    def beneficiary(self, beneficiary_id: str) -> BeneficiaryLine | None:
        return {b.beneficiary_id: b for b in self.beneficiaries}.get(beneficiary_id)

    def loan(self, bank_code: str, loan_no: str) -> LoanLine | None:
        return {(x.bank_code, x.loan_no): x for x in self.loans}.get((bank_code, loan_no))


def compute_batch(
    loans: Iterable[Loan],
    payments: Iterable[Payment],
    registry: Mapping[str, RegistryEntry],
    params: Params,
    cutoff: dt.date,
    paid_before: Mapping[str, int],
    spent_before_fen: int,
) -> BatchResult:
    """One cumulative batch: each loan's subsidy, each beneficiary's entitlement, due and payable
    (rationed pro rata when the budget left is short), given what earlier batches paid. The result
    does not depend on the order of the inputs."""
    loans_by_key: dict[tuple[str, str], Loan] = {}
    for loan in loans:
        if loan.key in loans_by_key:
            raise ValueError(f"loan {loan.key} given twice")
        loans_by_key[loan.key] = loan
    payments_by_loan: dict[tuple[str, str], list[Payment]] = {key: [] for key in loans_by_key}
    seen_payments: set[tuple[str, str, dt.date]] = set()
    for payment in payments:
        if payment.loan_key not in loans_by_key:
            raise ValueError(f"payment for unknown loan {payment.loan_key}")
        payment_key = (*payment.loan_key, payment.accrual_start)
        if payment_key in seen_payments:
            raise ValueError(f"payment {payment_key} given twice")
        seen_payments.add(payment_key)
        payments_by_loan[payment.loan_key].append(payment)
    for beneficiary_id, amount in paid_before.items():
        if not _is_fen(amount) or amount < 0:
            raise ValueError(f"paid_before[{beneficiary_id!r}] must be a non-negative int of fen")
    if not _is_fen(spent_before_fen) or spent_before_fen < 0:
        raise ValueError("spent_before_fen must be a non-negative int of fen")

    loan_lines: list[LoanLine] = []
    counted: dict[str, tuple[int, Fraction, int]] = {}
    for key in sorted(loans_by_key):
        loan = loans_by_key[key]
        reason = eligibility(loan, registry, params)
        if reason is not None:
            loan_lines.append(LoanLine(*key, loan.borrower_id, False, reason, None, None))
            continue
        interest = sum((counted_interest(p, loan, params, cutoff) for p in payments_by_loan[key]),
                       Fraction(0))
        subsidy = loan_subsidy_fen(interest, params.rate)
        loan_lines.append(LoanLine(*key, loan.borrower_id, True, None, interest, subsidy))
        loans_counted, interest_sum, subsidy_sum = counted.get(loan.borrower_id, (0, Fraction(0), 0))
        counted[loan.borrower_id] = (loans_counted + 1, interest_sum + interest, subsidy_sum + subsidy)

    names, kinds = _names_and_kinds(loans_by_key, registry)
    ids = sorted(counted)
    columns = [ids, [names.get(b, "") for b in ids], [kinds.get(b, "") for b in ids],
               *(list(c) for c in zip(*(counted[b] for b in ids)))] if ids else [[] for _ in range(6)]
    return _batch(params, cutoff, tuple(loan_lines), columns, paid_before, spent_before_fen,
                  lambda b: (names.get(b, ""), kinds.get(b, "")))


def _batch(params: Params, cutoff: dt.date, loan_lines: Sequence[LoanLine], counted: Sequence[list],
           paid_before: Mapping[str, int], spent_before_fen: int,
           name_and_kind: Callable[[str], tuple[str, str]]) -> BatchResult:
    """The beneficiary half of a batch. ``counted``: six columns (lists), one row per beneficiary with a
    counted loan, by beneficiary_id: beneficiary_id, name, kind, loans counted, Σ counted interest, Σ loan
    subsidies; ``name_and_kind`` gives those of any other beneficiary. The lines are returned as
    ``Lines`` (columns), computed column by column."""
    ids, names, kinds, loans_counted, interests, subsidies = (list(c) for c in counted)
    # A beneficiary paid before but with nothing counted now (a correction) still gets a line:
    # that is where its overpayment is recorded.
    others = {b for b, amount in paid_before.items() if amount > 0}
    if others:
        others -= set(ids)
    if others:
        rows = sorted([*zip(ids, names, kinds, loans_counted, interests, subsidies),
                       *((b, *name_and_kind(b), 0, 0, 0) for b in others)], key=itemgetter(0))
        ids, names, kinds, loans_counted, interests, subsidies = (list(c) for c in zip(*rows))
    cap = params.cap_fen
    get_before = paid_before.get
    entitlements = [cap if subsidy > cap else subsidy for subsidy in subsidies]
    before = list(map(get_before, ids, repeat(0)))
    dues = [e - b if e > b else 0 for e, b in zip(entitlements, before)]
    due_total = sum(dues)

    budget_left = params.budget_fen - spent_before_fen
    factor = None
    if due_total > max(budget_left, 0) and params.rationing == "pro_rata":
        factor = Fraction(max(budget_left, 0), due_total)
    # payable = floor_to_fen(due × factor), in integers: the factor is exact, so is the quotient.
    if factor is None:
        payables = dues
    else:
        num, den = factor.numerator, factor.denominator
        payables = [due * num // den for due in dues]
    # The overpayment: max(0, paid before − entitlement), to recover, never a negative payment.
    overpayments = [b - e if b > e else 0 for e, b in zip(entitlements, before)]
    payable_total = sum(payables)
    beneficiary_lines = Lines(BeneficiaryLine, [ids, names, kinds, loans_counted, interests, subsidies,
                                                entitlements, before, dues, payables, overpayments])
    return BatchResult(
        params=params,
        cutoff=cutoff,
        loans=loan_lines,
        beneficiaries=beneficiary_lines,
        due_total=due_total,
        payable_total=payable_total,
        overpayment_total=sum(overpayments),
        budget_left=budget_left,
        rationing_factor=factor,
        unspent=budget_left - payable_total,
        over_budget=payable_total > max(budget_left, 0),
    )


def _names_and_kinds(loans_by_key: Mapping[tuple[str, str], Loan], registry: Mapping[str, RegistryEntry]):
    """Each borrower's display name and kind: the registry's when it lists the borrower (as it
    decided eligibility), else from the borrower's first loan in (bank_code, loan_no) order."""
    by_borrower: dict[str, list[Loan]] = {}
    for key in sorted(loans_by_key):
        by_borrower.setdefault(loans_by_key[key].borrower_id, []).append(loans_by_key[key])
    names: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for borrower_id, its_loans in by_borrower.items():
        registered = any(loan.borrower_kind != "business_owner" for loan in its_loans)
        entry = registry.get(borrower_id) if registered else None
        kinds[borrower_id] = entry.kind if entry is not None else its_loans[0].borrower_kind
        names[borrower_id] = (entry.name if entry is not None and entry.name
                              else next((loan.borrower_name for loan in its_loans if loan.borrower_name), ""))
    return names, kinds
