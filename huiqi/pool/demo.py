"""The demo city's risk-compensation pool as the seed's figures stand on 2020-04-30, made through the real
paths: the banks' earlier-vintage loans and the NPLs claimed on them sent as files through the ledger's import
(``lending.services.import_path``), the claim window set by the bureau (``core.params.set_value``), the pool
topped up, and every claim filed by its bank's staff, reviewed by ``bureau2`` and decided by ``bureau3``
(``pool.services``), each on its own day (``core.clock.fixed``). Nothing is inserted around them.

The demo ledger's own loans start from 2019-07, so those started after the figures' day cannot be registered
by then: the loans the figures still need are added as loans started 2018-07..2019-06 (before the interest
subsidy's window, with no interest payments, so the subsidy's figures do not move), each registered the day
it started or, when its bank joined the pool later, the day its bank was onboarded.

Everything is drawn from a ``random.Random`` seeded from the seed alone; the plan of each scale names the
figures it lands on: registered loans, their principal and borrowers exactly; the claims filed and settled;
the payment occasions (a bank paid on a day); the total paid to the fen (the last claim reviewed is approved
in part for what is left); the lending leveraged (the principal registered at the banks paid, which are those
with the least lending registered, topped up by their earlier loans). The claims still open wait for the
bureau on the demo's day.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from huiqi.accounts import selectors as accounts_selectors
from huiqi.core import clock, formats
from huiqi.core import params as core_params
from huiqi.core.errors import AlreadyBuilt
from huiqi.lending import selectors as lending
from huiqi.core.months import add_months
from huiqi.registry import selectors as registry

SHOWN_ON = dt.date(2020, 4, 30)  # the seed's figures are as at this day
TOPPED_UP_ON = dt.date(2019, 1, 2)
WINDOW_SET_ON = dt.date(2019, 12, 2)  # before the first claim
CLAIM_WINDOW_DAYS = 180
POOL_SIZE_FEN = 5_000_000_000 * 100  # 50 亿元, the pool's size
VINTAGE_FIRST, VINTAGE_LAST = dt.date(2018, 7, 1), dt.date(2019, 6, 30)
FIRST_OCCASION, LAST_OCCASION = dt.date(2020, 1, 6), dt.date(2020, 4, 28)
# The open claims are filed here: open on the demo's day and on SHOWN_ON.
OPEN_FILED_FROM, OPEN_FILED_TO = dt.date(2020, 3, 16), dt.date(2020, 4, 1)
# The ratio of the claimed loans: neither first loans nor credit, started outside the window.
BASE_RATIO = Decimal("0.30")
MIN_PRINCIPAL_FEN = 50_000 * 100
UPLOADER, REVIEWER, APPROVER = "bureau", "bureau2", "bureau3"


@dataclass(frozen=True)
class Plan:
    """The figures a scale lands on at ``SHOWN_ON``."""

    loans: int  # registered loans
    principal_fen: int  # their principal
    borrowers: int  # their distinct borrowers
    settled: int  # claims approved and paid
    open_submitted: int  # claims waiting for review
    open_reviewed: int  # claims waiting for a second person
    occasions: int  # (bank, day) payment occasions
    paid_fen: int  # compensation paid
    leveraged_fen: int  # the principal registered at the banks paid (the lending the pool leveraged)

    @property
    def claims(self) -> int:
        return self.settled + self.open_submitted + self.open_reviewed


MAX_PRINCIPAL_FEN = 3_000_000_000  # 3,000 万元: the pool's default limit per loan (``rules.DEFAULTS``)

PLANS = {
    "small": Plan(loans=2_400, principal_fen=9_600_000_000_00, borrowers=1_950, settled=10, open_submitted=1,
                  open_reviewed=1, occasions=4, paid_fen=987_654_321, leveraged_fen=750_000_000 * 100),
    # The seed: 22.6 万 loans, > 3,930 亿元, about 7.6 万 enterprises; 192 claims, 186 done, 18,456.98 万元
    # paid to 20 bank-times, 307.62 亿元 of loans leveraged.
    "city": Plan(loans=226_000, principal_fen=393_180_000_000 * 100, borrowers=76_000, settled=186,
                 open_submitted=3, open_reviewed=3, occasions=20, paid_fen=18_456_980_000,
                 leveraged_fen=30_762_000_000 * 100),
}

LOAN_HEADER = ["bank_code", "loan_no", "borrower_id", "borrower_name", "borrower_kind", "owner_of", "purpose",
               "guarantee", "first_loan", "principal", "annual_rate", "start_date", "maturity_date",
               "extension_of", "registered_date"]
NPL_HEADER = ["bank_code", "loan_no", "npl_date", "outstanding_principal", "recovered"]
GUARANTEE_WEIGHTS = (("mortgage", 35), ("guaranteed", 33), ("credit", 22), ("pledge", 10))


class PoolDataExists(AlreadyBuilt):
    """The database already holds pool claims (or lacks the demo's bureau log-ins)."""


@dataclass
class _Loan:
    bank: str
    loan_no: str
    borrower: tuple  # (uscc, name, kind)
    guarantee: str
    first_loan: bool
    principal_fen: int
    rate: Decimal
    start: dt.date
    maturity: dt.date
    registered: dt.date


@dataclass
class _Claim:
    bank: str
    loan: _Loan | None
    npl_date: dt.date
    filed: dt.date
    reviewed: dt.date | None
    decided: dt.date | None
    loss_fen: int = 0
    recovered_fen: int = 0

    @property
    def outstanding_fen(self) -> int:
        return self.loss_fen + self.recovered_fen


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=int(rng.random() * ((last - first).days + 1)))


def _people():
    people = {u.username: u for u in accounts_selectors.demo_users().filter(role="bureau")}
    missing = [name for name in (UPLOADER, REVIEWER, APPROVER) if name not in people]
    if missing:
        raise PoolDataExists("demo.pool_people", _("缺少演示账户 %(missing)s，演示风险补偿数据未生成。"),
                             missing=", ".join(missing))
    return people[UPLOADER], people[REVIEWER], people[APPROVER]


def _bank_staff(banks) -> tuple[dict[str, object], list]:
    """A bank staff log-in for each paying bank: the demo's own where it has one, else a new demo user
    (returned second)."""
    from django.conf import settings

    from huiqi.accounts.services import create_user

    staff, made = {}, []
    for user in accounts_selectors.demo_users().filter(role="bank").select_related("bank"):
        staff.setdefault(user.bank.code, user)
    for bank in banks:
        if bank.code not in staff:
            staff[bank.code] = create_user(
                None, username="pool_" + bank.code.lower().replace("-", "_"),
                password=settings.HUIQI_DEMO_PASSWORD, role="bank", display_name=f"{bank.name} 风险补偿经办",
                bank=bank, is_demo=True, check_password=False)
            made.append(staff[bank.code])
    return staff, made


def _plan_claims(rng, plan: Plan, banks, base: dict[str, int]) -> list[_Claim]:
    """The claims' banks and days: the settled ones in ``plan.occasions`` (bank, day) occasions, the open ones
    filed in the fortnight before the demo's day. The banks paid are those with the least principal
    registered (``base``), so that the lending they leverage can land on the plan's."""
    # A bank can pay from 100 days after it was onboarded (its loans registered, gone bad, claimed, reviewed).
    earliest = {b.code: max(FIRST_OCCASION, b.onboarded_date + dt.timedelta(days=100)) for b in banks}
    payers = sorted((b for b in banks if earliest[b.code] <= LAST_OCCASION - dt.timedelta(days=30)),
                    key=lambda b: b.code)
    occasions: set[tuple[str, dt.date]] = set()
    n_banks = max(1, min(len(payers), (plan.occasions * 3 + 4) // 5))
    least = sorted(payers, key=lambda b: (base.get(b.code, 0), b.code))[:n_banks]
    paying = sorted(least, key=lambda b: b.code)
    k = 0
    while len(occasions) < plan.occasions:
        bank = paying[k % len(paying)]
        occasions.add((bank.code, _day(rng, earliest[bank.code], LAST_OCCASION)))
        k += 1
    occasions = sorted(occasions, key=lambda o: (o[1], o[0]))
    # Every occasion pays at least one claim; the rest fall on them at random.
    on = list(occasions) + [occasions[int(rng.random() * len(occasions))]
                            for _ in range(plan.settled - len(occasions))]
    claims = []
    by_code = {b.code: b for b in banks}

    def npl_from(code, day):
        """An NPL's first day: after the loan was registered (by its bank's onboarding at the latest)."""
        return max(day, by_code[code].onboarded_date + dt.timedelta(days=31),
                   VINTAGE_LAST + dt.timedelta(days=31))

    for code, paid in sorted(on, key=lambda o: (o[1], o[0])):
        npl = _day(rng, npl_from(code, paid - dt.timedelta(days=170)), paid - dt.timedelta(days=25))
        filed = _day(rng, max(npl + dt.timedelta(days=5), WINDOW_SET_ON + dt.timedelta(days=1)),
                     paid - dt.timedelta(days=10))
        reviewed = _day(rng, filed + dt.timedelta(days=1), paid - dt.timedelta(days=1))
        claims.append(_Claim(code, None, npl, filed, reviewed, paid))
    for i in range(plan.open_submitted + plan.open_reviewed):
        bank = paying[int(rng.random() * len(paying))]
        filed = _day(rng, OPEN_FILED_FROM, OPEN_FILED_TO - dt.timedelta(days=1))
        npl = _day(rng, npl_from(bank.code, filed - dt.timedelta(days=120)), filed - dt.timedelta(days=5))
        reviewed = None
        if i >= plan.open_submitted:
            reviewed = _day(rng, filed + dt.timedelta(days=1), OPEN_FILED_TO)
        claims.append(_Claim(bank.code, None, npl, filed, reviewed, None))
    return claims


def _amounts(rng, plan: Plan, claims: list[_Claim]) -> int:
    """Each claim's loss and recovery; the last settled claim reviewed is planned at twice what is left for
    it, so that its partial approval lands the total. Returns its index."""
    settled = [i for i, c in enumerate(claims) if c.decided is not None]
    last = max(settled, key=lambda i: (claims[i].reviewed, claims[i].filed, i))
    share = plan.paid_fen // plan.settled  # what the last one is left, about
    weights = {i: min(3.0, max(0.2, rng.lognormvariate(0, 0.5))) for i, c in enumerate(claims) if i != last}
    spread = sum(w for i, w in weights.items() if claims[i].decided is not None)
    for i, c in enumerate(claims):
        compensation = 2 * share if i == last else int((plan.paid_fen - share) * weights[i] / spread)
        c.loss_fen = int((Decimal(compensation) / BASE_RATIO).to_integral_value(ROUND_CEILING)) // 100 * 100
        c.recovered_fen = 0
        if rng.random() >= 0.65:
            c.recovered_fen = int(c.loss_fen * (0.05 + 0.35 * rng.random())) // 100 * 100
    return last


def _loans(rng, plan: Plan, claims, banks, figures, base: dict[str, int]) -> list[_Loan]:
    """The earlier-vintage loans: one for each claim, then the others the plan needs (its new borrowers
    first)."""
    n = plan.loans - figures["loans"]
    others = n - len(claims)
    if others < 1:
        raise RuntimeError(f"the ledger already registers {figures['loans']} loans: the plan's {plan.loans} "
                           f"leaves no room for {len(claims)} claimed loans")
    present = set(lending.loans().filter(pk__in=_registered_ids())
                  .values_list("borrower_id", flat=True).distinct())
    # Borrowers the pool covers for loans of 2018-2019 (registration screens each: an individual business
    # only from 2020-03-01, never a large enterprise or one of unknown size).
    enterprises = list(registry.enterprises().filter(kind="enterprise", size_class__in=("medium", "small", "micro"))
                       .order_by("id").values_list("uscc", "name", "kind", "size_class"))
    fresh = [e for e in enterprises if e[0] not in present]
    new = rng.sample(fresh, min(len(fresh), max(0, plan.borrowers - figures["borrowers"]), others))
    known = [e for e in enterprises if e[0] in present] + new
    claimable = [e for e in known if e[2] == "enterprise" and e[3] in ("small", "micro")]
    by_code = {b.code: b for b in banks}
    onboarded = sorted(banks, key=lambda b: b.code)
    seq: dict[tuple[str, int], int] = {}

    def loan(bank, borrower, guarantee, first, principal, start=None, registered_by=None) -> _Loan:
        start = start or _day(rng, VINTAGE_FIRST, VINTAGE_LAST)
        key = (bank.code, start.year)
        seq[key] = seq.get(key, 0) + 1 + int(rng.random() * 3)
        registered = max(start, bank.onboarded_date)
        if registered_by is not None and registered > registered_by:
            raise RuntimeError(f"{bank.code} was onboarded too late for a claim by {registered_by}")
        rate = (Decimal("4.35") + Decimal(int(rng.random() * 300)) / 100).quantize(Decimal("0.01"))
        maturity = add_months(start, 24 if rng.random() < 0.6 else 36)
        return _Loan(bank.code, f"{bank.code}-{start.year}-R{seq[key]:06d}", borrower, guarantee, first,
                     principal, rate, start, maturity, registered)

    loans = []
    for c in claims:
        # Whole 万元, above what is outstanding.
        principal = int(c.outstanding_fen / (0.55 + 0.4 * rng.random())) // 1_000_000 * 1_000_000 + 1_000_000
        principal = max(MIN_PRINCIPAL_FEN, principal)
        borrower = claimable[int(rng.random() * len(claimable))]
        bank = by_code[c.bank]
        c.loan = loan(bank, borrower, rng.choice(("mortgage", "guaranteed", "pledge")), False, principal,
                      registered_by=c.npl_date - dt.timedelta(days=30))
        loans.append(c.loan)
    # The others: some at the banks paid, carrying what the leveraged lending still needs; the rest elsewhere.
    paying = {c.bank for c in claims}
    left = plan.principal_fen - figures["principal_fen"] - sum(x.principal_fen for x in loans)
    left_paying = plan.leveraged_fen - sum(base.get(code, 0) for code in paying) \
        - sum(x.principal_fen for x in loans)
    at_paying = min(others - 1, max(1, int(others * left_paying / left)))
    if not (at_paying * MIN_PRINCIPAL_FEN <= left_paying and (others - at_paying) * MIN_PRINCIPAL_FEN
            <= left - left_paying):
        raise RuntimeError(f"the plan's leveraged lending leaves {left_paying} fen for {at_paying} loans")
    amounts = _split(rng, left_paying, at_paying) + _split(rng, left - left_paying, others - at_paying)
    who = new + [known[int(rng.random() * len(known))] for _ in range(others - len(new))]
    rng.shuffle(who)
    guarantees = [g for g, _w in GUARANTEE_WEIGHTS]
    cumulative = [w for _g, w in GUARANTEE_WEIGHTS]
    paid_banks = [b for b in onboarded if b.code in paying]
    other_banks = [b for b in onboarded if b.code not in paying]
    for i in range(others):
        group = paid_banks if i < at_paying else other_banks
        bank = rng.choices(group, [lending.bank_weights().get(b.code, 1) for b in group])[0]
        guarantee = rng.choices(guarantees, cumulative)[0]
        loans.append(loan(bank, who[i], guarantee, rng.random() < 0.1, amounts[i]))
    return loans


def _split(rng, total: int, n: int) -> list[int]:
    """``total`` fen in ``n`` loan amounts (whole 100 元 but for the odd fen on one), log-normal, each within
    the pool's limit per loan (a loan above it would be screened out at registration)."""
    cap = MAX_PRINCIPAL_FEN
    if not n * MIN_PRINCIPAL_FEN <= total <= n * (cap - 10_000):
        raise RuntimeError("the plan's principal does not fit its loans")
    shares = [min(10.0, max(0.05, rng.lognormvariate(0, 0.9))) for _ in range(n)]
    amounts = [0] * n
    free, remaining = set(range(n)), total
    while True:  # the shares that would pass the limit take it; the rest share what is left
        spread = sum(shares[i] for i in free)
        over = [i for i in free if remaining * shares[i] / spread > cap]
        if not over:
            break
        for i in over:
            amounts[i] = cap - 10_000
            free.discard(i)
            remaining -= cap - 10_000
    spread = sum(shares[i] for i in free)
    for i in free:
        amounts[i] = max(MIN_PRINCIPAL_FEN, int(remaining * shares[i] / spread) // 10_000 * 10_000)
    diff = total - sum(amounts)  # what rounding left (or the floor added), in whole 100 元, then the odd fen
    for i in sorted(range(n), key=lambda i: amounts[i]):
        if abs(diff) < 10_000:
            break
        step = 10_000 * (1 if diff > 0 else -1)
        if MIN_PRINCIPAL_FEN <= amounts[i] + step < cap:
            amounts[i] += step
            diff -= step
    room = next(i for i in range(n) if MIN_PRINCIPAL_FEN <= amounts[i] + diff <= cap)
    amounts[room] += diff
    if sum(amounts) != total:
        raise RuntimeError("the plan's principal does not fit its loans")
    return amounts


def _registered_ids():
    from .selectors import registered_loans

    return registered_loans(SHOWN_ON).values("pk")


def _write_files(folder: Path, loans: list[_Loan], claims: list[_Claim]) -> tuple[Path, Path]:
    loans_path = folder / "入库贷款补报-2018-2019.csv"
    with open(loans_path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(LOAN_HEADER)
        for x in loans:
            uscc, name, kind = x.borrower[:3]
            out.writerow([x.bank, x.loan_no, uscc, name, kind, "", "operating", x.guarantee,
                          "Y" if x.first_loan else "N", _yuan(x.principal_fen), str(x.rate),
                          x.start.isoformat(), x.maturity.isoformat(), "", x.registered.isoformat()])
    npl_path = folder / "不良贷款-2019-2020.csv"
    with open(npl_path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(NPL_HEADER)
        for c in claims:
            out.writerow([c.bank, c.loan.loan_no, c.npl_date.isoformat(), _yuan(c.outstanding_fen),
                          _yuan(c.recovered_fen)])
    return loans_path, npl_path


def build_pool_demo(scale: str = "small", seed: int = 2020, progress=None) -> dict:
    """Build the pool's demo part; returns the bureau's figures at ``SHOWN_ON`` (``figures``) and the bank
    log-ins it added (``logins``). Refuses (nothing changed)
    when the pool already holds claims or a bureau log-in is missing."""
    from django.db import transaction
    from django.db.models import Sum

    from huiqi.lending.services import import_path

    from . import selectors, services
    from .apps import PARAMS_KEY
    from .models import Claim

    if scale not in PLANS:
        raise ValueError(f"scale must be one of {sorted(PLANS)}, got {scale!r}")
    found = Claim.objects.count()
    if found:
        raise PoolDataExists("demo.pool_exists", _("数据库中已有 %(found)s 笔补偿申请，演示风险补偿数据未生成。"),
                             found=found)
    uploader, reviewer, approver = _people()
    plan = PLANS[scale]
    rng = random.Random(f"huiqi-pool-{scale}-{seed}")
    banks = list(registry.banks().filter(onboarded_date__isnull=False, onboarded_date__lte=SHOWN_ON)
                 .order_by("code"))
    if not banks:
        raise RuntimeError("no onboarded bank: build the registry demo first")
    services.register_loans(uploader)  # the demo ledger's loans, screened on their registration days
    before = selectors.figures(uploader, SHOWN_ON)
    base = dict(selectors.registered_loans(SHOWN_ON).values_list("bank__code")
                .annotate(t=Sum("principal_fen")))
    claims = _plan_claims(rng, plan, banks, base)
    last = _amounts(rng, plan, claims)
    loans = _loans(rng, plan, claims, banks, before, base)
    if progress:
        progress(1, 4, "生成贷款 generating loans")

    with transaction.atomic():
        with tempfile.TemporaryDirectory() as tmp, clock.fixed(SHOWN_ON):
            for kind, path in zip(("loans", "npl"), _write_files(Path(tmp), loans, claims)):
                record = import_path(uploader, kind, path)
                if record.status != "stored":
                    raise RuntimeError(f"the demo's {kind} file was refused: {record.message}")
            services.register_loans(uploader)
        if progress:
            progress(2, 4, "导入贷款 loans imported")
        with clock.fixed(TOPPED_UP_ON):
            services.top_up(uploader, POOL_SIZE_FEN, TOPPED_UP_ON, note="市财政注入风险补偿资金池")
        with clock.fixed(WINDOW_SET_ON):
            value = core_params.value(PARAMS_KEY, on=WINDOW_SET_ON)
            core_params.set_value(uploader, PARAMS_KEY, "pool",
                                  {**value, "claim_window_days": CLAIM_WINDOW_DAYS}, WINDOW_SET_ON,
                                  today=WINDOW_SET_ON, note="自不良认定之日起 180 天内受理补偿申请")
        staff, logins = _bank_staff([b for b in banks if b.code in {c.bank for c in claims}])

        # Every step on its day, in order: filed, reviewed, decided.
        steps = []
        for i, c in enumerate(claims):
            steps.append((c.filed, 0, i))
            if c.reviewed is not None:
                steps.append((c.reviewed, 1, i))
            if c.decided is not None:
                steps.append((c.decided, 2, i))
        made: dict[int, Claim] = {}
        for day, step, i in sorted(steps):
            c = claims[i]
            with clock.fixed(day):
                if step == 0:
                    made[i] = services.file_claim(staff[c.bank], services.ClaimInput(
                        c.bank, c.loan.loan_no, evidence="催收记录、诉讼材料和核销说明（演示）",
                        idempotency_key=f"demo-{i}"))
                elif step == 1 and i == last:
                    others = sum(made[j].compensation_fen for j, x in enumerate(claims)
                                 if x.decided is not None and j != last)
                    made[i] = services.review(reviewer, made[i], "partial", amount_fen=plan.paid_fen - others,
                                              reason="recovery_pending", note="余额待追偿结束后核定")
                elif step == 1:
                    made[i] = services.review(reviewer, made[i], "approve", note="材料齐全，同意补偿")
                else:
                    made[i] = services.decide(approver, made[i], True, note="同意")
        if progress:
            progress(3, 4, "补偿申请 claims made")
    figures = selectors.figures(uploader, SHOWN_ON)
    if progress:
        progress(4, 4, "完成 done")
    return {"figures": figures, "logins": logins}


def build_and_describe(scale: str = "small", seed: int = 2020, progress=None) -> str:
    """What `huiqi demo` prints for this part."""
    import time

    started = time.monotonic()
    made = build_pool_demo(scale, seed, progress)
    f = made["figures"]
    logins = "".join(f"\n  {u.username:<15} bank  {u.display_name}" for u in made["logins"])
    return (f"演示风险补偿资金池已生成 demo risk-compensation pool made in {time.monotonic() - started:.1f} s\n"
            f"  截至 {f['on']}：签约银行 {f['banks_signed']} 家，入库银行 {f['banks_onboarded']} 家；"
            f"入库贷款 {formats.count(f['loans'])} 笔，{formats.yuan(f['principal_fen'])} 元，"
            f"借款人 {formats.count(f['borrowers'])} 户\n"
            f"  补偿申请 {f['claims']} 笔，办结 {f['completed']} 笔；已拨付 {formats.yuan(f['paid_fen'])} 元，"
            f"{f['bank_times']} 家（次）（{REVIEWER} 审核 → {APPROVER} 审批）\n"
            f"  补偿申请银行演示账户 claiming banks' demo log-ins:{logins}")
