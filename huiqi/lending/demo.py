"""A deterministic demo bank ledger on top of the demo city: loans, monthly interest payments, NPLs.

`huiqi demo` runs this after the registry part (``huiqi.registry.demo``). Like that part it has two
halves:

* ``generate(scale, seed, enterprises, owners, banks)`` is pure: from a seed and the registry's
  borrowers and onboarded banks it produces plain rows (``LoanRow``, ``NplRow``), and
  ``LedgerData.payments()`` streams the monthly interest payments one loan at a time, so the 1.8
  million payments of the city scale never stand in memory together. Same seed and same inputs →
  identical rows; every draw comes from a ``random.Random`` seeded from ``seed`` alone; no clock.
* ``write(data)`` stores them in one transaction (``COPY … FROM STDIN`` on PostgreSQL, one
  ``executemany`` INSERT per batch on SQLite) with one batch-level audit record.

``build_ledger_demo(scale, seed)`` reads the registry (enterprises, individual businesses, business
owners, onboarded banks), generates and writes; it refuses (``LedgerDataExists``, nothing changed)
when the database already holds loans.

What the ledger looks like (``specs/bank-data-exchange.md``, ``specs/interest-subsidy.md``, the
seed's figures in ``domain/shenzhen-and-programs.md``):

* every enterprise, individual business and business owner of the registry borrows at least once;
  the rest of the loans go to repeat borrowers, more often to the larger firms;
* start dates from 2019-07 to 2020-12 with a peak in the epidemic period (Feb–Jun 2020), maturities
  6–36 months later; purposes mostly operating; principal 5 万 to 5,000 万元, log-normal by borrower
  size; annual rates 3.0–8.5 % (LPR plus a spread) with 2–4 decimals; about 15 % first loans (首贷);
  about 3 % extensions (展期: a new loan of the same bank and borrower starting on the earlier
  loan's maturity, ``extension_of`` its loan number); about 1.5 % non-performing in late 2020;
* one interest payment per calendar month of each loan, ``[start + k months, start + k+1 months)``
  (clamped to the month's end and to maturity), up to 2020-12-31, the data date; interest is
  ``principal × rate × days / 360`` rounded half-up to the fen, paid on the period's end (2 % a few
  days late). An NPL's payments stop 90 days before it was declared.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.utils.translation import gettext_lazy as _

from huiqi.core import formats
from huiqi.core.bulk import insert_rows
from huiqi.core.errors import AlreadyBuilt
from huiqi.core.months import add_months
from huiqi.registry import selectors as registry_selectors

SCALES = {"small": 3_000, "city": 226_000}

LEDGER_FIRST_MONTH = (2019, 7)
DATA_END = dt.date(2020, 12, 31)  # the data date: payments reported up to here
WINDOW_START, WINDOW_END = dt.date(2020, 2, 1), dt.date(2020, 6, 30)  # the epidemic period

EXTENSION_SHARE = 0.03
FIRST_LOAN_SHARE = 0.15
NPL_SHARE = 0.015
LATE_SHARE = 0.02
NPL_FIRST, NPL_LAST = dt.date(2020, 9, 1), DATA_END
NPL_PAYMENTS_STOP_DAYS = 90  # an NPL paid no interest for this long before it was declared

PRINCIPAL_MIN_FEN = 50_000 * 100  # 5 万元
PRINCIPAL_MAX_FEN = 50_000_000 * 100  # 5,000 万元
RATE_MIN_E4, RATE_MAX_E4 = 30_000, 85_000  # annual rate in 1/10,000 of a percent: 3.0 % … 8.5 %

# Rows per INSERT batch on SQLite, and between progress reports.
LOAN_BATCH = 5_000
PAYMENT_BATCH = 20_000

ENTERPRISE, INDIVIDUAL, OWNER = "enterprise", "individual_business", "business_owner"
OPERATING, OTHER = "operating", "other"
GUARANTEES = ("credit", "guaranteed", "mortgage", "pledge")

# Loans started per month (relative weights): the epidemic period (2020-02..06) holds about two
# thirds of them, Feb–Apr about half of the money (the seed: > 2,000 亿元 of new loans by early June).
MONTH_WEIGHTS = {
    (2019, 7): 3.3, (2019, 8): 3.3, (2019, 9): 3.4, (2019, 10): 3.1, (2019, 11): 3.4, (2019, 12): 3.8,
    (2020, 1): 2.6,
    (2020, 2): 14.0, (2020, 3): 21.0, (2020, 4): 19.0, (2020, 5): 11.0, (2020, 6): 8.0,
    (2020, 7): 3.6, (2020, 8): 3.2, (2020, 9): 3.0, (2020, 10): 2.8, (2020, 11): 2.8, (2020, 12): 2.8,
}
TERM_WEIGHTS = {6: 10, 9: 3, 12: 44, 18: 6, 24: 16, 36: 21}
EXTENSION_TERM_WEIGHTS = {6: 45, 12: 45, 24: 10}

# One-year loan prime rate (LPR) in 1/10,000 of a percent, from the date it took effect; before
# 2019-08-20 loans were priced on the 4.35 % benchmark.
LPR = [(dt.date(2019, 1, 1), 43_500), (dt.date(2019, 8, 20), 42_500), (dt.date(2019, 9, 20), 42_000),
       (dt.date(2019, 11, 20), 41_500), (dt.date(2020, 2, 20), 40_500), (dt.date(2020, 4, 20), 38_500)]
_LPR_DATES = [d for d, _ in LPR]

# Borrower classes: enterprise size classes, individual businesses, business owners.
# principal: (median 万元, sigma of the log); spread over LPR: (low, high) in 1/10,000 %;
# repeat: weight for the loans beyond each borrower's first; other: share of non-operating loans.
CLASSES = {
    "large": {"principal": (1_600, 0.8), "spread": (-4_000, 6_000), "repeat": 5.0, "other": 0.06,
              "guarantee": (45, 25, 15, 15)},
    "medium": {"principal": (450, 0.9), "spread": (0, 13_000), "repeat": 4.0, "other": 0.07,
               "guarantee": (30, 30, 30, 10)},
    "small": {"principal": (130, 0.9), "spread": (3_000, 20_000), "repeat": 2.6, "other": 0.08,
              "guarantee": (25, 35, 33, 7)},
    "micro": {"principal": (44, 0.9), "spread": (7_000, 30_000), "repeat": 1.6, "other": 0.08,
              "guarantee": (30, 35, 30, 5)},
    "unknown": {"principal": (55, 1.0), "spread": (5_000, 25_000), "repeat": 1.2, "other": 0.09,
                "guarantee": (30, 35, 30, 5)},
    "individual": {"principal": (17, 0.8), "spread": (10_000, 38_000), "repeat": 1.0, "other": 0.10,
                   "guarantee": (55, 25, 18, 2)},
    "owner": {"principal": (26, 0.85), "spread": (9_000, 36_000), "repeat": 0.9, "other": 0.22,
              "guarantee": (40, 20, 38, 2)},
}
GUARANTEE_SPREAD = {"credit": 4_000, "guaranteed": 2_000, "mortgage": -2_000, "pledge": -1_000}
BANK_SPREAD = {"WEBANK": 15_000}
RATE_DECIMALS = {2: 60, 3: 15, 4: 25}

# Where loans are booked: corporate borrowers and retail ones (individual businesses, owners).
# A bank not listed weighs 1.
CORPORATE_BANK_WEIGHTS = {
    "ICBC-SZ": 10, "ABC-SZ": 7, "BOC-SZ": 8, "CCB-SZ": 10, "BOCOM-SZ": 5, "CMB-SZ": 9, "PAB-SZ": 8,
    "CITIC-SZ": 5, "SPDB-SZ": 4, "CIB-SZ": 5, "CMBC-SZ": 4, "CEB-SZ": 4, "HXB-SZ": 3, "CGB-SZ": 3,
    "BOB-SZ": 2, "NBCB-SZ": 3, "BOSC-SZ": 2, "JSB-SZ": 2, "HZB-SZ": 1.5, "CBHB-SZ": 1.5, "CZB-SZ": 2,
    "PSBC-SZ": 4, "SZRCB": 6, "WEBANK": 2, "CRB-SZ": 1.5, "DGB-SZ": 1, "GZB-SZ": 1, "GDNY-SZ": 0.8,
    "GHB-SZ": 0.8, "FUBON-SZ": 0.5, "HSBC-SZ": 1, "SCB-SZ": 0.8, "DBS-SZ": 0.6, "BEA-SZ": 0.8,
    "HASE-SZ": 0.6, "UOB-SZ": 0.4, "OCBC-SZ": 0.4, "CITI-SZ": 0.4, "NCB-SZ": 0.5, "CMBWL-SZ": 0.5,
    "CDB-SZ": 2, "CEXIM-SZ": 1.5,
}
RETAIL_BANK_WEIGHTS = {
    "WEBANK": 20, "SZRCB": 12, "PSBC-SZ": 8, "PAB-SZ": 8, "CMB-SZ": 8, "ICBC-SZ": 5, "ABC-SZ": 4,
    "BOC-SZ": 4, "CCB-SZ": 5, "BOCOM-SZ": 2, "CITIC-SZ": 2, "CIB-SZ": 2, "CMBC-SZ": 3, "CEB-SZ": 2,
    "NBCB-SZ": 2, "CDB-SZ": 0, "CEXIM-SZ": 0, "HSBC-SZ": 0.1, "SCB-SZ": 0.1, "DBS-SZ": 0.1,
    "BEA-SZ": 0.1, "HASE-SZ": 0.1, "UOB-SZ": 0.1, "OCBC-SZ": 0.1, "CITI-SZ": 0.1, "NCB-SZ": 0.1,
    "CMBWL-SZ": 0.1, "FUBON-SZ": 0.1,
}

def period_interest_fen(principal_fen: int, rate_e4: int, days: int) -> int:
    """``principal × rate × days / 360`` in whole fen, rounded half-up, in integers only."""
    num = principal_fen * rate_e4 * days
    den = 360 * 100 * 10_000  # days per year, percent, 1/10,000 of a percent
    return (2 * num + den) // (2 * den)


class LedgerDataExists(AlreadyBuilt):
    """The database already holds loans; the demo ledger is only ever built into an empty ledger."""


# --- plain rows --------------------------------------------------------------------------------


class Borrower(NamedTuple):
    borrower_id: str  # USCC (91…/92…) or resident ID
    name: str
    kind: str  # enterprise / individual_business / business_owner
    group: str  # a key of CLASSES
    owns: tuple[str, ...] = ()  # business owners: USCCs of what they own


class LoanRow(NamedTuple):
    bank_code: str
    loan_no: str
    borrower_id: str
    borrower_name: str
    borrower_kind: str
    owner_of: str
    purpose: str
    guarantee: str
    first_loan: bool
    principal_fen: int
    rate_e4: int  # annual rate in 1/10,000 of a percent: 43_500 is 4.35 %
    start_date: dt.date
    maturity_date: dt.date
    extension_of: str
    paid_until: dt.date  # payments end on or before this (the data date, or before an NPL)

    @property
    def annual_rate(self) -> Decimal:
        return Decimal(self.rate_e4).scaleb(-4)

    @property
    def registered_date(self) -> dt.date:
        """The demo's banks register each loan in the risk-compensation pool the day it is made."""
        return self.start_date


class NplRow(NamedTuple):
    loan: int  # index into LedgerData.loans
    npl_date: dt.date
    outstanding_principal_fen: int
    recovered_fen: int


class PaymentRow(NamedTuple):
    loan: int  # index into LedgerData.loans
    accrual_start: dt.date
    accrual_end: dt.date
    paid_date: dt.date
    interest_fen: int


@dataclass
class LedgerData:
    scale: str
    seed: int
    loans: list[LoanRow] = field(default_factory=list)
    npls: list[NplRow] = field(default_factory=list)

    def payments(self) -> Iterator[PaymentRow]:
        """The monthly interest payments, loan by loan, generated as they are read (deterministic)."""
        rng = random.Random(f"huiqi-ledger-payments-{self.seed}")
        late_share = LATE_SHARE
        for i, loan in enumerate(self.loans):
            start, maturity = loan.start_date, loan.maturity_date
            limit = loan.paid_until
            principal, rate = loan.principal_fen, loan.rate_e4
            s = start
            k = 1
            while s < maturity:
                e = add_months(start, k)
                if e > maturity:
                    e = maturity
                if e > limit:
                    break
                days = (e - s).days
                paid = e
                if rng.random() < late_share:
                    late = e + dt.timedelta(days=1 + int(rng.random() * 10))
                    if late <= DATA_END:
                        paid = late
                yield PaymentRow(i, s, e, paid, period_interest_fen(principal, rate, days))
                s = e
                k += 1

    def counts(self) -> dict:
        kinds = dict.fromkeys((ENTERPRISE, INDIVIDUAL, OWNER), 0)
        for loan in self.loans:
            kinds[loan.borrower_kind] += 1
        window = [ln for ln in self.loans if WINDOW_START <= ln.start_date <= WINDOW_END]
        feb_apr = [ln for ln in self.loans if WINDOW_START <= ln.start_date <= dt.date(2020, 4, 30)]
        return {
            "loans": len(self.loans),
            "borrowers": len({ln.borrower_id for ln in self.loans}),
            "borrower_kinds": kinds,
            "banks": len({ln.bank_code for ln in self.loans}),
            "principal_fen": sum(ln.principal_fen for ln in self.loans),
            "window_loans": len(window),
            "window_principal_fen": sum(ln.principal_fen for ln in window),
            "window_borrowers": len({ln.borrower_id for ln in window}),
            "feb_apr_principal_fen": sum(ln.principal_fen for ln in feb_apr),
            "operating": sum(ln.purpose == OPERATING for ln in self.loans),
            "first_loans": sum(ln.first_loan for ln in self.loans),
            "extensions": sum(bool(ln.extension_of) for ln in self.loans),
            "npls": len(self.npls),
        }


class _Weighted:
    """A fixed weighted choice that consumes exactly one ``rng.random()`` per draw."""

    def __init__(self, keys: Sequence, weights: Sequence[float]):
        items = [(k, w) for k, w in zip(keys, weights) if w > 0]
        if not items:
            raise ValueError("nothing to choose from")
        self.keys = [k for k, _ in items]
        self.cum = list(itertools.accumulate(w for _, w in items))
        self.total = self.cum[-1]

    def draw(self, rng: random.Random):
        return self.keys[bisect.bisect_right(self.cum, rng.random() * self.total)]


# --- the generator -----------------------------------------------------------------------------


def borrowers_from(enterprises: Iterable, owners: Iterable) -> list[Borrower]:
    """Borrowers from registry rows: ``enterprises`` as (uscc, name, kind, size_class), ``owners`` as
    (resident_id, name, USCCs owned). Owners who own nothing known are left out."""
    out = []
    for uscc, name, kind, size_class in enterprises:
        if kind == INDIVIDUAL:
            out.append(Borrower(uscc, name, INDIVIDUAL, "individual"))
        else:
            out.append(Borrower(uscc, name, ENTERPRISE, size_class if size_class in CLASSES else "unknown"))
    for resident_id, name, owns in owners:
        if owns:
            out.append(Borrower(resident_id, name, OWNER, "owner", tuple(sorted(owns))))
    return out


class _Generator:
    def __init__(self, scale: str, seed: int, borrowers: Sequence[Borrower], banks: Sequence[str], progress):
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {sorted(SCALES)}, got {scale!r}")
        if not borrowers:
            raise ValueError("no borrowers: build the registry demo first")
        if not banks:
            raise ValueError("no onboarded bank to lend")
        self.scale, self.seed, self.n = scale, seed, SCALES[scale]
        self.rng = random.Random(f"huiqi-ledger-{seed}")
        self.borrowers = list(borrowers)
        self.banks = list(banks)
        self.progress = progress
        self.corporate_bank = _Weighted(self.banks, [CORPORATE_BANK_WEIGHTS.get(b, 1) for b in self.banks])
        retail = [RETAIL_BANK_WEIGHTS.get(b, 1) for b in self.banks]
        self.retail_bank = (_Weighted(self.banks, retail) if any(w > 0 for w in retail)
                            else self.corporate_bank)
        months = sorted(MONTH_WEIGHTS)
        self.month = _Weighted(months, [MONTH_WEIGHTS[m] for m in months])
        self.term = _Weighted(list(TERM_WEIGHTS), list(TERM_WEIGHTS.values()))
        self.ext_term = _Weighted(list(EXTENSION_TERM_WEIGHTS), list(EXTENSION_TERM_WEIGHTS.values()))
        self.decimals = _Weighted(list(RATE_DECIMALS), list(RATE_DECIMALS.values()))
        self.guarantee = {g: _Weighted(GUARANTEES, spec["guarantee"]) for g, spec in CLASSES.items()}

    # one loan ----------------------------------------------------------------------------------

    def start_date(self) -> dt.date:
        rng = self.rng
        year, month = self.month.draw(rng)
        days = (add_months(dt.date(year, month, 1), 1) - dt.date(year, month, 1)).days
        return dt.date(year, month, 1 + int(rng.random() * days))

    def maturity(self, start: dt.date, term) -> dt.date:
        rng = self.rng
        months = term.draw(rng)
        maturity = add_months(start, months)
        if months > 6 and rng.random() < 0.08:  # a few contracts end some days before the month-day
            maturity -= dt.timedelta(days=1 + int(rng.random() * 20))
        return maturity

    def principal_fen(self, group: str) -> int:
        rng = self.rng
        median, sigma = CLASSES[group]["principal"]
        wan = median * rng.lognormvariate(0.0, sigma)
        fen = int(wan * 1_000_000)
        fen = min(max(fen, PRINCIPAL_MIN_FEN), PRINCIPAL_MAX_FEN)
        style = rng.random()
        if style < 0.55:  # whole 万元 (whole 千元 under 10 万)
            unit = 1_000_000 if fen >= 10_000_000 else 100_000
            fen = max(PRINCIPAL_MIN_FEN, fen // unit * unit)
        elif style < 0.9:  # whole yuan
            fen = fen // 100 * 100
        return fen

    def rate_e4(self, group: str, guarantee: str, bank: str, start: dt.date) -> int:
        rng = self.rng
        lpr = LPR[bisect.bisect_right(_LPR_DATES, start) - 1][1]
        low, high = CLASSES[group]["spread"]
        spread = low + int(rng.random() * (high - low))
        return self.round_rate(lpr + spread + GUARANTEE_SPREAD[guarantee] + BANK_SPREAD.get(bank, 0))

    def round_rate(self, rate: int) -> int:
        unit = 10 ** (4 - self.decimals.draw(self.rng))
        rate = (rate + unit // 2) // unit * unit
        return min(max(rate, RATE_MIN_E4), RATE_MAX_E4)

    # the whole ledger --------------------------------------------------------------------------

    def run(self) -> LedgerData:
        rng = self.rng
        borrowers = self.borrowers
        n_ext = round(self.n * EXTENSION_SHARE)
        n_base = self.n - n_ext

        # Who borrows: everyone once (a sample when there are more borrowers than loans), then
        # repeat borrowers, the larger firms more often.
        if len(borrowers) <= n_base:
            who = list(range(len(borrowers)))
        else:
            who = sorted(rng.sample(range(len(borrowers)), n_base))
        repeat = _Weighted(range(len(borrowers)), [CLASSES[b.group]["repeat"] for b in borrowers])
        who += [repeat.draw(rng) for _ in range(n_base - len(who))]
        rng.shuffle(who)

        # raw loans: [borrower, bank, start, maturity, purpose, guarantee, principal, rate, owner_of, ext_of]
        raw: list[list] = []
        step = max(1, n_base // 10)
        for j, b in enumerate(who):
            borrower = borrowers[b]
            group = borrower.group
            spec = CLASSES[group]
            bank = (self.corporate_bank if borrower.kind == ENTERPRISE else self.retail_bank).draw(rng)
            start = self.start_date()
            maturity = self.maturity(start, self.term)
            purpose = OTHER if rng.random() < spec["other"] else OPERATING
            guarantee = "credit" if bank == "WEBANK" else self.guarantee[group].draw(rng)
            principal = self.principal_fen(group)
            if bank == "WEBANK":  # an online bank's credit loans stay small
                principal = min(principal, 300_000_000)
            rate = self.rate_e4(group, guarantee, bank, start)
            owner_of = borrower.owns[int(rng.random() * len(borrower.owns))] if borrower.owns else ""
            raw.append([b, bank, start, maturity, purpose, guarantee, principal, rate, owner_of, None])
            if self.progress and (j + 1) % step == 0:
                self.progress(j + 1, self.n, "生成贷款 generating loans")

        # Non-performing loans, declared Sep–Dec 2020, chosen before extensions (an NPL is not extended).
        candidates = [i for i, r in enumerate(raw) if r[2] <= dt.date(2020, 8, 31)]
        npl_pick = sorted(rng.sample(candidates, min(len(candidates), round(self.n * NPL_SHARE))))
        npl_set = set(npl_pick)

        # Extensions (展期): a new loan of the same bank and borrower from the earlier loan's maturity.
        candidates = [i for i, r in enumerate(raw) if r[3] <= DATA_END and i not in npl_set]
        for i in sorted(rng.sample(candidates, min(len(candidates), n_ext))):
            b, bank, _start, old_maturity, purpose, guarantee, principal, rate, owner_of, _ = raw[i]
            start = old_maturity
            maturity = add_months(start, self.ext_term.draw(rng))
            share = 0.4 + 0.6 * rng.random()
            principal = max(PRINCIPAL_MIN_FEN, int(principal * share) // 100 * 100)
            rate = self.round_rate(rate + int(rng.random() * 5_000))
            raw.append([b, bank, start, maturity, purpose, guarantee, principal, rate, owner_of, i])

        # Loan numbers: per bank and year of the start date, in start order, with gaps (the bank's
        # other loans).
        order = sorted(range(len(raw)), key=lambda i: (raw[i][1], raw[i][2].year, raw[i][2], i))
        loan_no: list[str] = [""] * len(raw)
        seq, last_key = 0, None
        for i in order:
            key = (raw[i][1], raw[i][2].year)
            if key != last_key:
                seq, last_key = int(rng.random() * 50), key
            seq += 1 + int(rng.random() * 3)
            loan_no[i] = f"{key[0]}-{key[1]}-{seq:06d}"

        # First loans (首贷): each borrower's earliest loan, often enough for about 15 % of all loans.
        p_first = min(1.0, FIRST_LOAN_SHARE * len(raw) / max(1, len(set(who))))
        earliest: dict[int, int] = {}
        for i in range(n_base):
            b = raw[i][0]
            if b not in earliest or (raw[i][2], i) < (raw[earliest[b]][2], earliest[b]):
                earliest[b] = i
        first = {i for _, i in sorted(earliest.items()) if rng.random() < p_first}

        # NPL details; their payments stop 90 days before they were declared.
        npl_rows: dict[int, tuple] = {}
        for i in npl_pick:
            start, principal = raw[i][2], raw[i][6]
            lo = max(NPL_FIRST, start + dt.timedelta(days=120))
            npl_date = lo + dt.timedelta(days=int(rng.random() * ((NPL_LAST - lo).days + 1)))
            outstanding = max(1, int(principal * (0.4 + 0.6 * rng.random())))
            recovered = 0 if rng.random() < 0.35 else int(outstanding * (0.02 + 0.58 * rng.random()))
            npl_rows[i] = (npl_date, outstanding, recovered)

        # Final rows, in the ledger's order (bank, loan number).
        final = sorted(range(len(raw)), key=lambda i: (raw[i][1], loan_no[i]))
        position = {i: k for k, i in enumerate(final)}
        data = LedgerData(self.scale, self.seed)
        for i in final:
            b, bank, start, maturity, purpose, guarantee, principal, rate, owner_of, ext_of = raw[i]
            borrower = borrowers[b]
            paid_until = DATA_END
            if i in npl_rows:
                paid_until = npl_rows[i][0] - dt.timedelta(days=NPL_PAYMENTS_STOP_DAYS)
            data.loans.append(LoanRow(
                bank_code=bank, loan_no=loan_no[i], borrower_id=borrower.borrower_id,
                borrower_name=borrower.name, borrower_kind=borrower.kind, owner_of=owner_of,
                purpose=purpose, guarantee=guarantee, first_loan=i in first, principal_fen=principal,
                rate_e4=rate, start_date=start, maturity_date=maturity,
                extension_of=loan_no[ext_of] if ext_of is not None else "", paid_until=paid_until,
            ))
        data.npls = sorted((NplRow(position[i], *npl_rows[i]) for i in npl_pick), key=lambda r: r.loan)
        return data


def generate(scale: str = "small", seed: int = 2020, *, borrowers: Sequence[Borrower],
             banks: Sequence[str], progress=None) -> LedgerData:
    """The demo ledger as plain rows, from ``seed``, the borrowers and the onboarded banks' codes alone:
    no database access, no clock. Payments come from ``LedgerData.payments()``."""
    return _Generator(scale, seed, borrowers, banks, progress).run()


# --- reading the registry and writing ----------------------------------------------------------


def registry_inputs() -> tuple[list[Borrower], list[str]]:
    """The registry's borrowers (enterprises and individual businesses, then business owners, each in
    the order they were stored) and the onboarded banks' codes."""
    enterprises = list(registry_selectors.enterprises().order_by("id")
                       .values_list("uscc", "name", "kind", "size_class"))
    owners = registry_selectors.owners_with_enterprises()
    banks = list(registry_selectors.banks().filter(onboarded_date__isnull=False).order_by("id")
                 .values_list("code", flat=True))
    return borrowers_from(enterprises, owners), banks


def _refuse(count: int):
    raise LedgerDataExists(
        "demo.ledger_exists", _("数据库中已有 %(count)s 笔贷款，演示贷款台账未生成，也未做任何修改。"), count=formats.count(count),
    )


def _db_now():
    """Now, as the database backend wants a datetime in a raw row (naive UTC text on SQLite)."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    return connection.ops.adapt_datetimefield_value(now) if connection.vendor == "sqlite" else now


LOAN_FIELDS = ("bank", "loan_no", "borrower_id", "borrower_name", "borrower_kind", "owner_of", "purpose",
               "guarantee", "first_loan", "principal_fen", "annual_rate", "start_date", "maturity_date",
               "extension_of", "registered_date", "created_at", "updated_at")
PAYMENT_FIELDS = ("loan", "accrual_start", "accrual_end", "paid_date", "interest_fen", "updated_at")
NPL_FIELDS = ("loan", "npl_date", "outstanding_principal_fen", "recovered_fen", "updated_at")


def write(data: LedgerData, progress=None) -> dict:
    """Store generated rows in one transaction; returns the counts. Refuses over existing loans.

    Loans go in first; their ids are then read back by (bank, loan number) in one query; payments are
    generated and written in a stream, so memory stays flat whatever the scale.
    """
    from django.db import transaction

    from huiqi.core import audit

    from .models import InterestPayment, Loan, NonPerformingLoan

    n = len(data.loans)
    total = 10 * n  # progress units: a loan's share of the work, its payments included

    def report(done, message):
        if progress:
            progress(min(done, total), total, message)

    with transaction.atomic():
        existing = Loan.objects.count()
        if existing:
            _refuse(existing)
        bank_ids = dict(registry_selectors.banks().values_list("code", "id"))
        missing = sorted({ln.bank_code for ln in data.loans} - bank_ids.keys())
        if missing:
            raise RuntimeError(f"banks missing from the registry: {missing}; build the registry demo first")
        now = _db_now()

        def loan_rows():
            for k, ln in enumerate(data.loans):
                yield (bank_ids[ln.bank_code], ln.loan_no, ln.borrower_id, ln.borrower_name, ln.borrower_kind,
                       ln.owner_of, ln.purpose, ln.guarantee, ln.first_loan, ln.principal_fen, ln.annual_rate,
                       ln.start_date, ln.maturity_date, ln.extension_of, ln.registered_date, now, now)
                if (k + 1) % LOAN_BATCH == 0:
                    report(k + 1, "写入贷款 storing loans")

        insert_rows(Loan, LOAN_FIELDS, loan_rows(), LOAN_BATCH)
        ids = {(bank, no): pk for pk, bank, no in Loan.objects.values_list("id", "bank_id", "loan_no")}
        loan_ids = [ids[(bank_ids[ln.bank_code], ln.loan_no)] for ln in data.loans]
        del ids
        report(n, "写入贷款 storing loans")

        stats = {"payments": 0, "interest_fen": 0, "late_payments": 0}

        def payment_rows():
            count = interest = late = 0
            for p in data.payments():
                count += 1
                interest += p.interest_fen
                if p.paid_date != p.accrual_end:
                    late += 1
                yield (loan_ids[p.loan], p.accrual_start, p.accrual_end, p.paid_date, p.interest_fen, now)
                if count % PAYMENT_BATCH == 0:
                    report(n + 9 * (p.loan + 1), "写入付息记录 storing interest payments")
            stats.update(payments=count, interest_fen=interest, late_payments=late)

        insert_rows(InterestPayment, PAYMENT_FIELDS, payment_rows(), PAYMENT_BATCH)
        insert_rows(NonPerformingLoan, NPL_FIELDS,
                ((loan_ids[r.loan], r.npl_date, r.outstanding_principal_fen, r.recovered_fen, now)
                 for r in data.npls), LOAN_BATCH)

        counts = {**data.counts(), **stats}
        counts["npl_outstanding_fen"] = sum(r.outstanding_principal_fen for r in data.npls)
        counts["npl_recovered_fen"] = sum(r.recovered_fen for r in data.npls)
        audit.record(None, "demo", None, model="lending.Loan", object_id="", object_repr="demo ledger",
                     after={"scale": data.scale, "seed": data.seed, **counts},
                     note=f"演示贷款台账批量生成 demo ledger built in bulk: scale={data.scale}, seed={data.seed}")
        report(total, "完成 done")
    return counts


def existing_loans() -> int:
    from .models import Loan

    return Loan.objects.count()


def build_ledger_demo(scale: str = "small", seed: int = 2020, progress=None) -> dict:
    """Generate the demo ledger from ``seed`` over the registry's borrowers and store it; returns the
    counts. Raises ``LedgerDataExists`` (nothing changed) when the database already holds loans."""
    count = existing_loans()
    if count:
        _refuse(count)
    borrowers, banks = registry_inputs()
    if not borrowers or not banks:
        raise RuntimeError("the registry has no enterprises or no onboarded bank: "
                           "build the registry demo first")
    data = generate(scale, seed, borrowers=borrowers, banks=banks, progress=progress)
    return write(data, progress)


def build_refused_upload() -> str:
    """The demo bank log-in's March payments file, sent through the upload page's own path with two bad rows
    (an unknown loan number, a period that ends before it starts): refused whole with its error report, it
    waits on the bank's home page to be corrected and sent again. Returns what `huiqi demo` prints."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from huiqi.accounts import selectors as accounts_selectors

    from . import imports
    from .models import LedgerUpload, Loan

    bank_user = accounts_selectors.demo_users().filter(username="bank", role="bank").first()
    if bank_user is None or LedgerUpload.objects.filter(bank_id=bank_user.bank_id).exists():
        return ""
    loans = list(Loan.objects.filter(bank_id=bank_user.bank_id, start_date__lt=dt.date(2020, 3, 1))
                 .order_by("loan_no").values_list("loan_no", flat=True)[:3])
    if not loans:
        return ""
    code = bank_user.bank.code
    lines = ["银行机构代码,贷款合同编号,计息起日,计息止日,付息日期,实付利息（元）"]
    lines += [f"{code},{no},2020-03-01,2020-03-21,2020-03-21,1250.00" for no in loans]
    lines += [f"{code},{code}-2020-UNKNOWN,2020-03-01,2020-03-21,2020-03-21,980.00",
              f"{code},{loans[0]},2020-03-21,2020-03-01,2020-03-21,320.00"]
    upload = SimpleUploadedFile("付息明细-2020年3月.csv", ("\n".join(lines) + "\n").encode("utf-8"),
                                content_type="text/csv")
    record = imports.start_upload(bank_user, "payments", upload, inline_limit=10 * 1024 * 1024)
    return (f"演示银行报送已生成 demo bank upload made\n"
            f"  {bank_user.username}  {record.file_name}  {record.get_status_display()}  "
            f"({record.error_count} 行有误 rows with errors)")
