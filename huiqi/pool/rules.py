"""Risk-compensation pool (风险补偿资金池): which losses are covered, at what ratio, and how the pool pays.

Pure functions over plain values, no Django models and no database; ``shared/specs/risk-compensation.md``
is the contract and its worked example is a test. Money is whole fen (int); ratios are ``Decimal``.
Rounding happens where the spec says, half-up (ties away from zero) to the fen:

- a claim's compensation: ``loss × ratio``;
- a recovery's return to the pool: ``recovery × ratio`` (never more than is left of what was paid).

The ratio table: rows of (origination-date range, product condition, ratio). The spec's three ratios are
its standing rows — ``base`` (any loan), ``first_loan`` and ``credit`` (the priority ratio), ``window``
(loans started in the window) — and the bureau adds rows of its own (``extra_rows``). A loan's ratio is
the highest of the rows that apply, capped by its origination date's cap (``cap_window`` inside the
window, ``cap_normal`` outside). Both are fixed when the loan is registered (``Registration``).

Choices the spec leaves open, decided here:

- A loan is registered on its ``registered_date``; its bank must be onboarded (and neither suspended nor
  exited) on that day, else its claim is ``bank_not_onboarded``. A loan with no ``registered_date`` is
  not in the pool (``loan_not_registered``).
- Registration is screened by the same rules as a claim but the NPL date (bank, principal, borrower,
  the excluded industries, which come last: ``industry_excluded``, by code prefix).
- The claim window counts calendar days from ``npl_date`` to the day the claim is filed, inclusive of
  neither (a claim filed ``claim_window_days`` days after ``npl_date`` is in time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import NamedTuple

from django.utils.translation import gettext_lazy as _

from huiqi.core.errors import DomainError, InvalidFields, ValidationFailed
from huiqi.core.money import round_fen
from huiqi.lending.rules import BORROWER_REASONS, RegistryEntry, borrower_reason, is_individual, registry_entry

# Reason codes in the order a claim is checked; a claim carries the first that fails.
REASONS = {
    "loan_not_registered": _("贷款未在资金池入库"),
    "bank_not_onboarded": _("入库时银行未入库（未签约、暂停或已退出）"),
    "npl_before_registration": _("不良认定日期早于贷款入库日期"),
    "principal_above_limit": _("贷款金额超过资金池上限"),
    "borrower_kind_not_covered_yet": _("个体工商户和小微企业主的贷款须在扩围日期当日或以后放款"),
    **BORROWER_REASONS,
    "industry_excluded": _("借款人所属行业不在资金池支持范围"),
}

# The reasons a reviewer gives for a partial approval, a denial or a return: the rules' own, and these.
OUTCOME_REASONS = {
    **REASONS,
    "evidence_incomplete": _("证明材料不完整"),
    "amount_not_supported": _("申报金额与证明材料不符"),
    "recovery_pending": _("尚在追偿，待追偿结束后核定"),
    "non_compliant": _("贷款发放或管理不合规"),
}

CONDITIONS = {"any": _("所有贷款"), "first_loan": _("首贷"), "credit": _("信用贷款")}
STANDING_ROWS = {"base": _("基础比例"), "first_loan": _("首贷比例"), "credit": _("信用贷款比例"),
                 "window": _("疫情期间新增贷款比例")}

# The parameters' names for people (pages and messages show these, never the names in the code).
PARAMETER_LABELS = {
    "pool_size": _("资金池规模"),
    "base_ratio": _("基础补偿比例"),
    "priority_ratio": _("首贷、信用贷款补偿比例"),
    "window_ratio": _("疫情期间新增贷款补偿比例"),
    "window_start": _("疫情期间窗口起"),
    "window_end": _("疫情期间窗口止"),
    "widened_from": _("个体工商户和小微企业主纳入日期"),
    "max_principal": _("单笔贷款金额上限"),
    "claim_window_days": _("申请补偿期限"),
    "cap_normal": _("补偿比例上限（常规）"),
    "cap_window": _("补偿比例上限（疫情期间新增贷款）"),
    "extra_rows": _("补充比例规则"),
    "excluded_industries": _("不支持的行业"),
    "suspension_npl_rate": _("建议暂停的不良率"),
    "warning_share": _("预警：预计补偿占余额比例"),
}

# The spec's defaults, JSON-ready as the app stores them (amounts in 元 and ratios as text).
DEFAULTS: Mapping[str, object] = {
    "pool_size": "5000000000.00",
    "base_ratio": "0.30",
    "priority_ratio": "0.50",
    "window_ratio": "0.80",
    "window_start": "2020-02-01",
    "window_end": "2020-06-30",
    "widened_from": "2020-03-01",
    "max_principal": "30000000.00",
    "cap_normal": "0.50",
    "cap_window": "0.80",
    "extra_rows": [],
    "excluded_industries": [],
    "suspension_npl_rate": "0.05",
    "warning_share": "0.80",
}
OPTIONAL = frozenset({"claim_window_days", "extra_rows", "excluded_industries", "suspension_npl_rate",
                      "warning_share"})
RATIO_NAMES = ("base_ratio", "priority_ratio", "window_ratio", "cap_normal", "cap_window",
               "suspension_npl_rate", "warning_share")


def fen_str(fen: int) -> str:
    """'1234.56' for the CSV outputs: two decimals, no thousands separator."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"


def ratio_str(ratio: Decimal) -> str:
    """A ratio as the CSV writes it: a decimal without trailing zeros ('0.8', '0.3', '1')."""
    return format(ratio.normalize(), "f")


# --------------------------------------------------------------------------------------------------
# Parameters


def _bad(key: str, message, value=None, **params) -> ValidationFailed:
    """An error of parameter ``key``, named in the message by its label."""
    return ValidationFailed(f"pool.params.{key.split('.')[0]}", message, field=key, value=value,
                            label=PARAMETER_LABELS.get(key, key), **params)


def _date(name, value, errors):
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(value.strip()) if isinstance(value, str) else None
    except ValueError:
        pass
    errors.append(_bad(name, _("%(label)s 必须是 YYYY-MM-DD 格式的日期"), value))
    return None


def _decimal(name, value, errors, *, low=None, high=None):
    if isinstance(value, (bool, float)) or not isinstance(value, (Decimal, int, str)):
        errors.append(_bad(name, _("%(label)s 必须以文本给出的数字（不接受浮点数）"), value))
        return None
    try:
        d = Decimal(value.replace(",", "").strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite():
        errors.append(_bad(name, _("%(label)s 必须是数字"), value))
        return None
    if (low is not None and d < low) or (high is not None and d > high):
        errors.append(_bad(name, _("%(label)s 必须在 %(low)s 到 %(high)s 之间"), value, low=low, high=high))
        return None
    return d


def _fen(name, value, errors):
    d = _decimal(name, value, errors, low=Decimal(0))
    if d is None:
        return None
    if d * 100 != (d * 100).to_integral_value():
        errors.append(_bad(name, _("%(label)s 不是整分的金额"), value))
        return None
    return int(d * 100)


@dataclass(frozen=True)
class RatioRow:
    """One row of the ratio table: loans started in ``[start, end]`` (open where None) meeting
    ``condition`` are covered at ``ratio``. ``name`` says which row won a loan."""

    name: str
    condition: str
    ratio: Decimal
    start: dt.date | None = None
    end: dt.date | None = None

    def applies(self, start_date: dt.date, first_loan: bool, guarantee: str) -> bool:
        if self.start is not None and start_date < self.start:
            return False
        if self.end is not None and start_date > self.end:
            return False
        if self.condition == "first_loan":
            return first_loan
        if self.condition == "credit":
            return guarantee == "credit"
        return True

    def as_mapping(self) -> dict:
        return {"name": self.name, "condition": self.condition, "ratio": str(self.ratio),
                "start": self.start.isoformat() if self.start else "",
                "end": self.end.isoformat() if self.end else ""}


def parse_rows(name: str, value, errors: list) -> tuple[RatioRow, ...]:
    """The bureau's rows ({name, condition, ratio, start, end}); every bad cell is named at once."""
    if not isinstance(value, list):
        errors.append(_bad(name, _("%(label)s 必须是一组规则行"), value))
        return ()
    rows = []
    for i, raw in enumerate(value, start=1):
        cell = f"{name}.{i}"
        if not isinstance(raw, Mapping):
            errors.append(_bad(cell, _("第 %(row)s 行不是一条规则"), raw, row=i))
            continue
        before = len(errors)
        row_name = str(raw.get("name") or f"row{i}").strip()[:40]
        condition = raw.get("condition", "any")
        if condition not in CONDITIONS:
            errors.append(_bad(f"{cell}.condition", _("第 %(row)s 行：适用贷款须为所有贷款、首贷或信用贷款"),
                               condition, row=i))
        ratio = _decimal(f"{cell}.ratio", raw.get("ratio"), errors, low=Decimal(0), high=Decimal(1))
        start = _date(f"{cell}.start", raw["start"], errors) if raw.get("start") else None
        end = _date(f"{cell}.end", raw["end"], errors) if raw.get("end") else None
        if start and end and end < start:
            errors.append(_bad(f"{cell}.end", _("第 %(row)s 行：放款日期止早于放款日期起"), raw.get("end"), row=i))
        if len(errors) == before:
            rows.append(RatioRow(row_name, condition, ratio, start, end))
    return tuple(rows)


@dataclass(frozen=True)
class Params:
    """The pool's numbers in force (or a simulation's overrides of them)."""

    pool_size_fen: int
    base_ratio: Decimal
    priority_ratio: Decimal
    window_ratio: Decimal
    window_start: dt.date
    window_end: dt.date
    widened_from: dt.date
    max_principal_fen: int
    cap_normal: Decimal
    cap_window: Decimal
    claim_window_days: int | None = None
    extra_rows: tuple[RatioRow, ...] = ()
    excluded_industries: tuple[str, ...] = ()
    suspension_npl_rate: Decimal = Decimal("0.05")
    warning_share: Decimal = Decimal("0.80")

    @classmethod
    def from_mapping(cls, d: Mapping[str, object]) -> Params:
        """From the spec's names (amounts in 元 as text, ratios as text, dates 'YYYY-MM-DD'); every bad,
        missing or unknown name is reported at once (``InvalidFields``)."""
        errors: list[DomainError] = []
        unknown = sorted(set(d) - set(PARAMETER_LABELS))
        errors += [_bad(name, _("未知参数 %(label)s")) for name in unknown]
        missing = [n for n in PARAMETER_LABELS if n not in d and n not in OPTIONAL]
        errors += [_bad(name, _("缺少参数 %(label)s")) for name in missing]
        v: dict[str, object] = {}
        for name in ("pool_size", "max_principal"):
            if name in d:
                v[f"{name}_fen"] = _fen(name, d[name], errors)
        for name in RATIO_NAMES:
            if name in d:
                v[name] = _decimal(name, d[name], errors, low=Decimal(0), high=Decimal(1))
        for name in ("window_start", "window_end", "widened_from"):
            if name in d:
                v[name] = _date(name, d[name], errors)
        days = d.get("claim_window_days")
        if days not in (None, ""):
            if isinstance(days, str) and days.strip().isdigit():
                days = int(days)
            if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
                errors.append(_bad("claim_window_days", _("%(label)s 必须是 1 到 3650 之间的整数（天）"), days))
            else:
                v["claim_window_days"] = days
        v["extra_rows"] = parse_rows("extra_rows", d.get("extra_rows", []), errors)
        industries = d.get("excluded_industries", [])
        if not isinstance(industries, list) or any(not isinstance(x, str) or not x.strip() for x in industries):
            errors.append(_bad("excluded_industries", _("%(label)s 必须是一组行业代码"), industries))
        else:
            v["excluded_industries"] = tuple(x.strip().upper() for x in industries)
        if not errors:
            if v["window_end"] < v["window_start"]:
                errors.append(_bad("window_end", _("%(label)s 早于窗口开始日期"), d["window_end"]))
            for ratio_name in ("base_ratio", "priority_ratio"):
                if v[ratio_name] > v["cap_normal"]:
                    errors.append(_bad(ratio_name, _("%(label)s 高于常规补偿比例上限"), d[ratio_name]))
            if v["window_ratio"] > v["cap_window"]:
                errors.append(_bad("window_ratio", _("%(label)s 高于疫情期间新增贷款的补偿比例上限"), d["window_ratio"]))
        if errors:
            raise InvalidFields(errors)
        return cls(**{k: val for k, val in v.items() if val is not None})

    @classmethod
    def defaults(cls) -> Params:
        return cls.from_mapping(DEFAULTS)

    def as_mapping(self) -> dict[str, object]:
        """The spec's names, JSON-ready (the inverse of ``from_mapping``)."""
        out: dict[str, object] = {
            "pool_size": fen_str(self.pool_size_fen), "max_principal": fen_str(self.max_principal_fen),
            "window_start": self.window_start.isoformat(), "window_end": self.window_end.isoformat(),
            "widened_from": self.widened_from.isoformat(),
            "extra_rows": [r.as_mapping() for r in self.extra_rows],
            "excluded_industries": list(self.excluded_industries),
        }
        out.update({name: str(getattr(self, name)) for name in RATIO_NAMES})
        if self.claim_window_days is not None:
            out["claim_window_days"] = self.claim_window_days
        return out

    def with_overrides(self, overrides: Mapping[str, object]) -> Params:
        return Params.from_mapping({**self.as_mapping(), **overrides})

    def rows(self) -> tuple[RatioRow, ...]:
        """The whole table: the standing rows the spec's three ratios make, then the bureau's."""
        return (
            RatioRow("base", "any", self.base_ratio),
            RatioRow("first_loan", "first_loan", self.priority_ratio),
            RatioRow("credit", "credit", self.priority_ratio),
            RatioRow("window", "any", self.window_ratio, self.window_start, self.window_end),
            *self.extra_rows,
        )

    def in_window(self, start_date: dt.date) -> bool:
        return self.window_start <= start_date <= self.window_end


# --------------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class Loan:
    """A loan of the shared ledger, as far as the pool needs it."""

    bank_code: str
    loan_no: str
    borrower_id: str
    borrower_kind: str
    owner_of: str | None
    guarantee: str
    first_loan: bool
    principal_fen: int
    start_date: dt.date
    registered_date: dt.date | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.bank_code, self.loan_no)


@dataclass(frozen=True)
class Npl:
    """A non-performing loan as the bank reported it."""

    bank_code: str
    loan_no: str
    npl_date: dt.date
    outstanding_fen: int
    recovered_fen: int = 0

    @property
    def loss_fen(self) -> int:
        return self.outstanding_fen - self.recovered_fen


class Pricing(NamedTuple):
    """A loan's ratio, the cap it was held to, and the row that won (fixed at registration)."""

    ratio: Decimal
    cap: Decimal
    row: str


def loan_ratio(loan: Loan, params: Params) -> Pricing:
    """The highest ratio of the rows that apply to ``loan``, capped by its origination date's cap."""
    best: RatioRow | None = None
    for row in params.rows():
        if row.applies(loan.start_date, loan.first_loan, loan.guarantee) and (best is None or row.ratio > best.ratio):
            best = row
    cap = params.cap_window if params.in_window(loan.start_date) else params.cap_normal
    ratio = best.ratio if best is not None else Decimal(0)
    return Pricing(min(ratio, cap), cap, best.name if best is not None else "")


def _industry_excluded(entry: RegistryEntry | None, params: Params) -> bool:
    code = (entry.industry if entry else "").upper()
    return bool(code) and any(code.startswith(prefix) for prefix in params.excluded_industries)


def screen(loan: Loan, registry: Mapping[str, RegistryEntry], bank_onboarded: bool, params: Params) -> str | None:
    """The first failing reason at registration (every check of a claim but the NPL date's), or None."""
    if not bank_onboarded:
        return "bank_not_onboarded"
    if loan.principal_fen > params.max_principal_fen:
        return "principal_above_limit"
    return _borrower(loan, registry, params)


def _borrower(loan: Loan, registry, params) -> str | None:
    if is_individual(loan.borrower_kind, loan.borrower_id, registry) and loan.start_date < params.widened_from:
        return "borrower_kind_not_covered_yet"
    reason = borrower_reason(loan.borrower_kind, loan.borrower_id, loan.owner_of, registry)
    if reason is not None:
        return reason
    if _industry_excluded(registry_entry(loan.borrower_kind, loan.borrower_id, loan.owner_of, registry), params):
        return "industry_excluded"
    return None


def eligibility(loan: Loan, npl: Npl, registry: Mapping[str, RegistryEntry], bank_onboarded: bool,
                params: Params) -> str | None:
    """The first failing reason code of the spec's list for a claim on ``loan``, or None.
    ``bank_onboarded``: the bank was onboarded (not suspended or exited) on the registration day."""
    if loan.registered_date is None:
        return "loan_not_registered"
    if not bank_onboarded:
        return "bank_not_onboarded"
    if npl.npl_date < loan.registered_date:
        return "npl_before_registration"
    if loan.principal_fen > params.max_principal_fen:
        return "principal_above_limit"
    return _borrower(loan, registry, params)


def compensation_fen(loss_fen: int, ratio: Decimal) -> int:
    """``loss × ratio`` rounded half-up to the fen."""
    return round_fen(Decimal(loss_fen) * ratio, ROUND_HALF_UP)


def check_npl(npl: Npl, loan: Loan) -> list[DomainError]:
    """Every rule an NPL's amounts break (outstanding within the principal, recovered within outstanding)."""
    errors = []
    if npl.outstanding_fen <= 0 or npl.outstanding_fen > loan.principal_fen:
        errors.append(ValidationFailed("pool.outstanding_above_principal",
                                       _("不良本金须大于零且不超过贷款金额"), field="outstanding_principal",
                                       value=fen_str(npl.outstanding_fen)))
    if npl.recovered_fen < 0 or npl.recovered_fen > npl.outstanding_fen:
        errors.append(ValidationFailed("pool.recovered_above_outstanding",
                                       _("已回收金额不能为负，也不能超过不良本金"), field="recovered",
                                       value=fen_str(npl.recovered_fen)))
    return errors


def within_claim_window(npl_date: dt.date, filed_on: dt.date, params: Params) -> bool:
    """Filed within ``claim_window_days`` calendar days of ``npl_date`` (False while the window is unset:
    claims do not open before the bureau sets it)."""
    if params.claim_window_days is None:
        return False
    return npl_date <= filed_on <= npl_date + dt.timedelta(days=params.claim_window_days)


# --------------------------------------------------------------------------------------------------
# Claims and the pool


class Assessed(NamedTuple):
    """A claim's assessment: eligible or the reason, the loss, the ratio and the compensation."""

    bank_code: str
    loan_no: str
    reason: str | None
    loss_fen: int
    ratio: Decimal
    compensation_fen: int

    @property
    def eligible(self) -> bool:
        return self.reason is None


def assess(loan: Loan, npl: Npl, registry, bank_onboarded: bool, params: Params,
           pricing: Pricing | None = None) -> Assessed:
    """A claim's assessment; ``pricing`` is the one fixed at registration (else the table's now)."""
    reason = eligibility(loan, npl, registry, bank_onboarded, params)
    if reason is not None:
        return Assessed(loan.bank_code, loan.loan_no, reason, 0, Decimal(0), 0)
    ratio = (pricing or loan_ratio(loan, params)).ratio
    return Assessed(loan.bank_code, loan.loan_no, None, npl.loss_fen, ratio, compensation_fen(npl.loss_fen, ratio))


class Settled(NamedTuple):
    """What one approved claim is paid now and what stays owed on it."""

    paid_fen: int
    owed_fen: int


def settle(amounts: Iterable[int], balance_fen: int) -> tuple[list[Settled], int]:
    """Claims' compensations in approval order against ``balance_fen``: each is paid ``min(amount,
    balance)``, the rest owed. Returns the settlements and the balance left."""
    if balance_fen < 0:
        raise ValueError("a pool balance is never negative")
    out = []
    for amount in amounts:
        if amount < 0:
            raise ValueError("a compensation is never negative")
        paid = min(amount, balance_fen)
        balance_fen -= paid
        out.append(Settled(paid, amount - paid))
    return out, balance_fen


def pay_owed(owed: Sequence[int], top_up_fen: int) -> tuple[list[int], int]:
    """After a top-up, what each claim still owed (in approval order) is paid now; and what is left."""
    return [s.paid_fen for s in settle(owed, top_up_fen)[0]], max(top_up_fen - sum(owed), 0)


def recovery_return_fen(recovery_fen: int, ratio: Decimal, paid_fen: int, returned_fen: int) -> int:
    """What a recovery reported after payment sends back: ``recovery × ratio`` half-up, never making the
    claim's returns exceed what it was paid."""
    if recovery_fen < 0:
        raise ValueError("a recovery is never negative")
    return max(min(compensation_fen(recovery_fen, ratio), paid_fen - returned_fen), 0)


def realised_ratio(paid_fen: int, loss_fen: int) -> Decimal | None:
    """Σ compensation ÷ Σ loss (None when no loss), to four places half-up."""
    if loss_fen <= 0:
        return None
    return (Decimal(paid_fen) / Decimal(loss_fen)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def contingent_liability_fen(outstanding_and_ratios: Iterable[tuple[int, Decimal]]) -> int:
    """Σ outstanding principal × ratio over performing registered loans, rounded half-up once at the end."""
    total = sum((Decimal(o) * r for o, r in outstanding_and_ratios), Decimal(0))
    return round_fen(total, ROUND_HALF_UP)


# --------------------------------------------------------------------------------------------------
# The headless simulation's file


CSV_HEADER = ("bank_code", "loan_no", "eligible", "reason", "loss", "ratio", "compensation", "paid", "owed")


@dataclass(frozen=True)
class ClaimLine:
    """One line of ``claims.csv``."""

    bank_code: str
    loan_no: str
    reason: str | None
    loss_fen: int
    ratio: Decimal
    compensation_fen: int
    paid_fen: int
    owed_fen: int

    def csv_row(self) -> tuple[str, ...]:
        ok = self.reason is None
        return (self.bank_code, self.loan_no, "Y" if ok else "N", self.reason or "",
                fen_str(self.loss_fen if ok else 0), ratio_str(self.ratio) if ok else "0",
                fen_str(self.compensation_fen if ok else 0), fen_str(self.paid_fen if ok else 0),
                fen_str(self.owed_fen if ok else 0))


def settle_claims(assessed: Sequence[Assessed], balance_fen: int) -> tuple[list[ClaimLine], int]:
    """Assessed claims (already in approval order) settled against the balance: the eligible ones are
    paid in turn; an ineligible one is paid nothing. Returns the lines and the balance left."""
    settlements, left = settle([a.compensation_fen for a in assessed], balance_fen)
    return [ClaimLine(a.bank_code, a.loan_no, a.reason, a.loss_fen, a.ratio, a.compensation_fen,
                      s.paid_fen, s.owed_fen) for a, s in zip(assessed, settlements)], left


def simulate(loans: Mapping[tuple[str, str], Loan], npls: Iterable[Npl], registry: Mapping[str, RegistryEntry],
             onboarded: Mapping[tuple[str, str], bool], params: Params, balance_fen: int,
             pricing: Mapping[tuple[str, str], Pricing] | None = None) -> tuple[list[ClaimLine], int]:
    """The spec's headless simulation over plain values: every NPL as a claim approved in the order
    (``npl_date``, ``bank_code``, ``loan_no``), settled against ``balance_fen``. ``onboarded[key]``: the
    loan's bank was onboarded on its registration day; ``pricing``: ratios fixed at registration (a
    what-if passes none, pricing every loan by ``params``)."""
    pricing = pricing or {}
    ordered = sorted(npls, key=lambda n: (n.npl_date, n.bank_code, n.loan_no))
    assessed = []
    for npl in ordered:
        key = (npl.bank_code, npl.loan_no)
        loan = loans[key]
        assessed.append(assess(loan, npl, registry, onboarded.get(key, False), params, pricing.get(key)))
    return settle_claims(assessed, balance_fen)

