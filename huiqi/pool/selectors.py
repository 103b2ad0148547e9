"""Every read of the risk-compensation pool: banks' states, the parameters in force on a day, the rules'
inputs from the shared ledger and the registry, the pool's balance."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from django.db.models import Count, Max, Min, Q, Sum
from django.utils.translation import gettext_lazy as _

from huiqi.core import params as core_params
from huiqi.lending import selectors as lending
from huiqi.registry import selectors as registry

from . import rules
from .apps import PARAMS_KEY
from .models import BankEvent, Claim, PoolEntry

if TYPE_CHECKING:  # the columns' type in annotations; polars is imported where it is used
    import polars as pl


# --- parameters ---------------------------------------------------------------------------------------

def params_on(day: dt.date | None = None) -> rules.Params:
    """The pool's parameters in force on ``day`` (today when omitted)."""
    return _params_of(_frozen(core_params.value(PARAMS_KEY, on=day)))


def _frozen(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _thawed(value):
    if isinstance(value, tuple) and value and all(isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str)
                                                   for x in value):
        return {k: _thawed(v) for k, v in value}
    if isinstance(value, tuple):
        return [_thawed(v) for v in value]
    return value


@lru_cache(maxsize=64)
def _params_of(frozen) -> rules.Params:
    return rules.Params.from_mapping(_thawed(frozen))


def pricing_of(loan: rules.Loan) -> rules.Pricing:
    """A registered loan's ratio and cap, fixed at registration (its ``Registration``, which a re-pricing
    the bureau records replaces), else the table in force on its registration day."""
    from .models import Registration

    fixed = Registration.objects.filter(loan__bank__code=loan.bank_code, loan__loan_no=loan.loan_no).first()
    if fixed is not None:
        return rules.Pricing(fixed.ratio, fixed.cap, fixed.row)
    return rules.loan_ratio(loan, params_on(loan.registered_date))


def fixed_pricing_of_npls() -> dict[tuple[str, str], rules.Pricing]:
    """The ratio, cap and row fixed at registration of every loan with an NPL, read in one query."""
    from .models import Registration

    rows = (Registration.objects.filter(loan__in=lending.non_performing().values("loan_id"))
            .values_list("loan__bank__code", "loan__loan_no", "ratio", "cap", "row"))
    return {(code, no): rules.Pricing(ratio, cap, row) for code, no, ratio, cap, row in rows.iterator(chunk_size=5000)}


def pricing_by_registration(days: Iterable[dt.date]) -> dict[dt.date, rules.Params]:
    """The parameters in force on each registration day: a loan's ratio and cap are the table's then."""
    values = core_params.values_on(PARAMS_KEY, days)
    tables = {id(value): _params_of(_frozen(value)) for value in values.values()}  # each stored row once
    return {day: tables[id(value)] for day, value in values.items()}


# --- banks -----------------------------------------------------------------------------------------------

def bank_state(bank, on: dt.date, events: list[BankEvent] | None = None) -> str:
    """The bank's state in the pool on a day: none, signed, onboarded, suspended or exited. Signing and
    onboarding are the bank's dates (its file or its page); suspensions, reinstatements and the exit are
    its dated events."""
    if events is None:
        events = list(bank.pool_events.filter(on__lte=on))
    state = "none"
    if bank.signed_date and bank.signed_date <= on:
        state = "signed"
    if bank.onboarded_date and bank.onboarded_date <= on:
        state = "onboarded"
    for event in sorted((e for e in events if e.on <= on), key=lambda e: (e.on, e.id or 0)):
        if event.kind == "exited":
            return "exited"
        if event.kind == "suspended" and state == "onboarded":
            state = "suspended"
        elif event.kind == "reinstated" and state == "suspended":
            state = "onboarded"
    return state


class BankDays:
    """Each bank's state on any day, read once."""

    def __init__(self, banks=None):
        banks = list(banks if banks is not None else registry.banks())
        self.banks = {b.code: b for b in banks}
        self.events: dict[int, list[BankEvent]] = {}
        for e in BankEvent.objects.filter(bank__in=banks).order_by("on", "id"):
            self.events.setdefault(e.bank_id, []).append(e)

    def state(self, code: str, on: dt.date) -> str:
        bank = self.banks.get(code)
        return "none" if bank is None else bank_state(bank, on, self.events.get(bank.pk, []))

    def onboarded(self, code: str, on: dt.date | None) -> bool:
        return on is not None and self.state(code, on) == "onboarded"


# --- the rules' inputs -------------------------------------------------------------------------------------

def registry_for(ids: Iterable[str]) -> dict[str, rules.RegistryEntry]:
    """The registry's entries of these USCCs (borrowers and owned enterprises), as the rules read them."""
    wanted = sorted({i for i in ids if i})
    out: dict[str, rules.RegistryEntry] = {}
    for i in range(0, len(wanted), 5000):
        for uscc, kind, size, name, industry in registry.enterprises().filter(uscc__in=wanted[i:i + 5000]).values_list(
                "uscc", "kind", "size_class", "name", "industry_id"):
            out[uscc] = rules.RegistryEntry(kind, size, name, industry or "")
    return out


def as_rule_loan(loan, bank_code: str | None = None) -> rules.Loan:
    return rules.Loan(bank_code or loan.bank.code, loan.loan_no, loan.borrower_id, loan.borrower_kind,
                      loan.owner_of or None, loan.guarantee, loan.first_loan, loan.principal_fen, loan.start_date,
                      loan.registered_date)


def as_rule_npl(npl, bank_code: str, loan_no: str) -> rules.Npl:
    return rules.Npl(bank_code, loan_no, npl.npl_date, npl.outstanding_principal_fen, npl.recovered_fen)


@dataclass
class RegistrationInputs:
    """What the registration screens, as columns (``rules_columnar.REGISTRATION_INPUT``), and the table in
    force on each registration day."""

    loans: pl.DataFrame
    tables: dict[dt.date, rules.Params]


def registration_inputs(loans) -> RegistrationInputs:
    """The ledger's ``loans`` (a queryset of ``lending.selectors.loans()``) as the registration reads them, in
    three reads whatever their number: the loans, their borrowers' and owned enterprises' registry entries, the
    banks with their events; each joined to the bank's state on the loan's registration day."""
    import polars as pl

    from .rules_columnar import REGISTRATION_INPUT

    frame = lending.frame(loans.order_by("id").values_list(
        "id", "bank_id", "borrower_id", "borrower_kind", "owner_of", "guarantee", "first_loan", "principal_fen",
        "start_date", "registered_date"), {
        "loan_id": pl.Int64, "bank_id": pl.Int64, "borrower_id": pl.String, "borrower_kind": pl.String,
        "owner_of": pl.String, "guarantee": pl.String, "first_loan": pl.Boolean, "principal_fen": pl.Int64,
        "start_date": pl.Date, "registered_date": pl.Date})
    entries = _registry_frame(loans.values("borrower_id"), loans.exclude(owner_of="").values("owner_of"))
    joined = _judged(frame, entries).select([pl.col(c).cast(t) for c, t in REGISTRATION_INPUT.items()])
    return RegistrationInputs(joined, pricing_by_registration(frame["registered_date"].unique().to_list()))


def _judged(frame: pl.DataFrame, entries: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (bank_id, registered_date, borrower_id, owner_of) with the bank's state on the registration day
    (``onboarded``) and the registry's ``entries`` (``_registry_frame``) of the borrower (``b_``) and of the
    owned enterprise (``o_``)."""
    import polars as pl

    # A bank's state changes only on its signing and onboarding days and its events' days: it is evaluated
    # there (``bank_state``), and each registration day takes the state of the latest such day by then.
    days = BankDays()
    changes = pl.DataFrame([(bank.pk, day, days.onboarded(code, day)) for code, bank in days.banks.items()
                            for day in sorted({bank.signed_date, bank.onboarded_date,
                                               *(e.on for e in days.events.get(bank.pk, []))} - {None})],
                           schema={"bank_id": pl.Int64, "changed": pl.Date, "onboarded": pl.Boolean}, orient="row")
    pairs = frame.select("bank_id", "registered_date").unique().drop_nulls().sort("registered_date")
    onboarded = (pairs.join_asof(changes.sort("changed"), left_on="registered_date", right_on="changed",
                                 by="bank_id", strategy="backward", check_sortedness=False)
                 .select("bank_id", "registered_date", pl.col("onboarded").fill_null(False)))
    b = entries.rename({"uscc": "borrower_id", "kind": "b_kind", "size_class": "b_size", "industry": "b_industry"})
    o = entries.rename({"uscc": "owner_of", "kind": "o_kind", "size_class": "o_size", "industry": "o_industry"})
    return (frame.join(onboarded, on=["bank_id", "registered_date"], how="left", maintain_order="left")
            .with_columns(pl.col("onboarded").fill_null(False))
            .join(b, on="borrower_id", how="left", maintain_order="left")
            .join(o, on="owner_of", how="left", maintain_order="left"))


@dataclass
class ClaimInputs:
    """Every NPL without a claim as the simulation reads it (``rules_columnar.CLAIM_INPUT``), in approval
    order (``npl_date``, ``bank_code``, ``loan_no``), and the table in force on each registration day."""

    claims: pl.DataFrame
    tables: dict[dt.date, rules.Params]


def unclaimed_claims() -> ClaimInputs:
    """The NPLs held whose loan has no claim recorded (the headless simulation's claims), with their loans,
    the ratio fixed at registration, borrowers and banks, in three reads whatever their number."""
    import polars as pl
    from django.db.models import BigIntegerField, F
    from django.db.models.functions import Cast, Round

    from .rules_columnar import CLAIM_INPUT, SCALE

    rows = (lending.non_performing().exclude(loan_id__in=Claim.objects.values("loan_id")).order_by()
            .annotate(fixed_e4=Cast(Round(F("loan__pool_registration__ratio") * SCALE), BigIntegerField()))
            .values_list("loan_id", "loan__bank_id", "loan__bank__code", "loan__loan_no", "npl_date",
                         "outstanding_principal_fen", "recovered_fen", "loan__borrower_id", "loan__borrower_kind",
                         "loan__owner_of", "loan__guarantee", "loan__first_loan", "loan__principal_fen",
                         "loan__start_date", "loan__registered_date", "fixed_e4"))
    frame = lending.frame(rows, {
        "loan_id": pl.Int64, "bank_id": pl.Int64, "bank_code": pl.String, "loan_no": pl.String, "npl_date": pl.Date,
        "outstanding_fen": pl.Int64, "recovered_fen": pl.Int64, "borrower_id": pl.String,
        "borrower_kind": pl.String, "owner_of": pl.String, "guarantee": pl.String, "first_loan": pl.Boolean,
        "principal_fen": pl.Int64, "start_date": pl.Date, "registered_date": pl.Date, "fixed_e4": pl.Int64})
    # Sorted here, by code point as Python sorts (the database's collation may order codes otherwise).
    frame = frame.sort(["npl_date", "bank_code", "loan_no"]).with_columns(
        (pl.col("outstanding_fen") - pl.col("recovered_fen")).alias("loss_fen"))
    npls = lending.non_performing().exclude(loan_id__in=Claim.objects.values("loan_id"))
    entries = _registry_frame(npls.values("loan__borrower_id"),
                              npls.exclude(loan__owner_of="").values("loan__owner_of"))
    claims = _judged(frame, entries).select([pl.col(c).cast(t) for c, t in CLAIM_INPUT.items()])
    return ClaimInputs(claims, pricing_by_registration(frame["registered_date"].drop_nulls().unique().to_list()))


def _registry_frame(*codes) -> pl.DataFrame:
    """The registry's entries (uscc, kind, size_class, industry) whose code is among those each of ``codes``
    (querysets of one column: the borrowers, the owned enterprises) gives, read through COPY."""
    import polars as pl

    schema = {"uscc": pl.String, "kind": pl.String, "size_class": pl.String, "industry": pl.String}
    parts = [lending.frame(registry.enterprises().filter(uscc__in=wanted.order_by()).order_by()
                           .values_list("uscc", "kind", "size_class", "industry_id"), schema) for wanted in codes]
    return pl.concat(parts).unique("uscc")


@dataclass
class Inputs:
    """The ledger's NPLs that have no claim yet, with their loans, borrowers and banks."""

    loans: dict[tuple[str, str], rules.Loan]
    npls: list[rules.Npl]
    registry: dict[str, rules.RegistryEntry]
    onboarded: dict[tuple[str, str], bool]
    registered_on: dict[tuple[str, str], dt.date | None]


def unclaimed_npls() -> Inputs:
    """Every NPL held whose loan has no claim recorded (the headless simulation's claims)."""
    claimed = Claim.objects.values("loan_id")
    rows = (lending.non_performing().exclude(loan_id__in=claimed)
            .select_related("loan", "loan__bank").order_by("npl_date", "loan__bank__code", "loan__loan_no"))
    loans, npls, registered_on = {}, [], {}
    for npl in rows.iterator(chunk_size=5000):
        code, no = npl.loan.bank.code, npl.loan.loan_no
        loans[(code, no)] = as_rule_loan(npl.loan, code)
        npls.append(as_rule_npl(npl, code, no))
        registered_on[(code, no)] = npl.loan.registered_date
    entries = registry_for([x for ln in loans.values() for x in (ln.borrower_id, ln.owner_of)])
    days = BankDays()
    onboarded = {key: days.onboarded(key[0], registered_on[key]) for key in loans}
    return Inputs(loans, npls, entries, onboarded, registered_on)


# --- the pool's money ----------------------------------------------------------------------------------------

def balance_fen(on: dt.date | None = None) -> int:
    """The pool's balance at the end of ``on`` (every entry when omitted): the sum of its ledger."""
    entries = PoolEntry.objects.all() if on is None else PoolEntry.objects.filter(on__lte=on)
    return entries.aggregate(total=Sum("amount_fen"))["total"] or 0


def paid_on_recorded_claims_fen() -> int:
    return Claim.objects.aggregate(total=Sum("paid_fen"))["total"] or 0


# --- what each reader sees ------------------------------------------------------------------------------------

def claims_for(user):
    """The claims a reader may see: every claim for the bureau, auditors and administrators; its own bank's
    for a bank's staff; none for anyone else."""
    qs = Claim.objects.select_related("bank", "loan", "filed_by", "reviewed_by", "decided_by")
    if user.has_perm("pool.view_all"):
        return qs
    if getattr(user, "role", None) == "bank" and user.bank_id:
        return qs.filter(bank_id=user.bank_id)
    return qs.none()


def claim_for(user, pk: int) -> Claim:
    from huiqi.core.errors import NotFound

    claim = claims_for(user).filter(pk=pk).first()
    if claim is None:
        raise NotFound("pool.claim_not_found", _("没有这笔补偿申请"))
    return claim


def entries_for(user):
    qs = PoolEntry.objects.select_related("claim", "bank", "claim__loan")
    if user.has_perm("pool.view_all"):
        return qs
    if getattr(user, "role", None) == "bank" and user.bank_id:
        return qs.filter(bank_id=user.bank_id)
    return qs.none()


def banks_for(user):
    qs = registry.banks().order_by("code")
    if user.has_perm("pool.view_all"):
        return qs
    if getattr(user, "role", None) == "bank" and user.bank_id:
        return qs.filter(pk=user.bank_id)
    return qs.none()


def claims_to_review(user):
    return claims_for(user).filter(status="submitted") if user.has_perm("pool.review") else Claim.objects.none()


def claims_to_decide(user):
    """Reviewed claims waiting for a second person: never those the reader reviewed."""
    if not user.has_perm("pool.approve"):
        return Claim.objects.none()
    return claims_for(user).filter(status="reviewed").exclude(reviewed_by=user)


def claims_returned(user):
    if not user.has_perm("pool.file_claim"):
        return Claim.objects.none()
    return claims_for(user).filter(status="returned")


def _registered(on: dt.date, bank_ids=None):
    """Loans in the pool on ``on``: registered by then and not screened out (``services.register_loans``
    screened each on its registration day: bank onboarded, principal, borrower, industry)."""
    qs = lending.loans().filter(pool_registration__registered_date__lte=on, pool_registration__reason="")
    if bank_ids is not None:
        qs = qs.filter(bank_id__in=bank_ids)
    return qs


def registered_loans(on: dt.date):
    """Every loan in the pool on ``on``, unscoped: for the demo's own reading of what the figures hold."""
    return _registered(on)


def figures(user, on: dt.date | None = None) -> dict:
    """The seed's figures at a day, from the data: banks signed and onboarded, loans registered (count,
    principal, distinct borrowers), claims filed and completed, compensation paid, banks benefited
    (家（次）), lending leveraged; and the realised ratio and the balance. A bank's staff get their bank's."""
    from huiqi.core import clock

    on = on or clock.today()
    banks = banks_for(user)
    bank_ids = None if user.has_perm("pool.view_all") else list(banks.values_list("pk", flat=True))
    days = BankDays(banks)
    states = [days.state(code, on) for code in days.banks]
    registered = _registered(on, bank_ids)
    loans = registered.aggregate(n=Count("id"), principal=Sum("principal_fen"), borrowers=Count("borrower_id",
                                                                                                distinct=True))
    claims = claims_for(user).filter(filed_on__lte=on)
    completed = claims.filter(status__in=["approved", "denied"], decided_at__date__lte=on)
    payouts = entries_for(user).filter(kind="payout", on__lte=on)
    paid = -(payouts.aggregate(t=Sum("amount_fen"))["t"] or 0)
    returned = entries_for(user).filter(kind__in=["recovery_return", "clawback", "offset"], on__lte=on).aggregate(
        t=Sum("amount_fen"))["t"] or 0
    benefited = sorted(set(payouts.values_list("bank_id", flat=True)))
    bank_times = payouts.values("bank_id", "on").distinct().count()
    leveraged = _registered(on, benefited).aggregate(t=Sum("principal_fen"))["t"] or 0 if benefited else 0
    loss = completed.filter(status="approved").aggregate(t=Sum("loss_fen"))["t"] or 0
    return {
        "on": on,
        "banks_signed": sum(s != "none" for s in states),
        "banks_onboarded": sum(s in ("onboarded", "suspended") for s in states),
        "loans": loans["n"] or 0, "principal_fen": loans["principal"] or 0, "borrowers": loans["borrowers"] or 0,
        "claims": claims.count(), "completed": completed.count(),
        "paid_fen": paid, "returned_fen": returned,
        "banks_benefited": len(benefited), "bank_times": bank_times, "leveraged_fen": leveraged,
        "realised_ratio": rules.realised_ratio(paid, loss),
        "balance_fen": balance_fen(on) if user.has_perm("pool.view_all") else None,
    }


# --- reports: contingent liability, scorecard, warning ----------------------------------------------------------

def performing_registered(on: dt.date, bank_ids=None):
    """The registered loans still performing on ``on`` (no NPL by then) as a frame: bank, start, product,
    outstanding (the principal: the ledger holds no amortisation), registration day and the ratio fixed then
    (in ten-thousandths)."""
    import polars as pl

    from django.db.models import BigIntegerField, F
    from django.db.models.functions import Cast, Round

    from .rules_columnar import SCALE

    npl_loans = lending.non_performing().filter(npl_date__lte=on).values("loan_id")
    rows = (_registered(on, bank_ids).exclude(pk__in=npl_loans).order_by()
            .annotate(ratio_e4=Cast(Round(F("pool_registration__ratio") * SCALE), BigIntegerField()))
            .values_list("bank__code", "start_date", "first_loan", "guarantee", "principal_fen", "registered_date",
                         "ratio_e4"))
    # Read as columns (COPY on PostgreSQL): a city's 300,000 loans through the ORM row by row took seconds.
    return lending.frame(rows, {
        "bank_code": pl.String, "start_date": pl.Date, "first_loan": pl.Boolean, "guarantee": pl.String,
        "outstanding_fen": pl.Int64, "registered_date": pl.Date, "ratio_e4": pl.Int64})


def performing_sums(on: dt.date, bank_ids=None):
    """``performing_registered`` summed by the database by bank and vintage (the year the loan started): loans,
    outstanding, and ``raw``, Σ outstanding fen × the ratio fixed at registration in ten-thousandths (exact)."""
    import polars as pl
    from django.db.models import BigIntegerField, Count, F
    from django.db.models.functions import Cast, ExtractYear, Round

    from .rules_columnar import SCALE

    npl_loans = lending.non_performing().filter(npl_date__lte=on).values("loan_id")
    ratio = Cast(Round(F("pool_registration__ratio") * SCALE), BigIntegerField())
    rows = (_registered(on, bank_ids).exclude(pk__in=npl_loans).order_by()
            .annotate(vintage=ExtractYear("start_date")).values("bank__code", "vintage")
            .annotate(loans=Count("id"), outstanding_fen=Sum("principal_fen"), raw=Sum(F("principal_fen") * ratio))
            .values_list("bank__code", "vintage", "loans", "outstanding_fen", "raw"))
    return lending.frame(rows, {"bank_code": pl.String, "vintage": pl.Int32, "loans": pl.Int64,
                                "outstanding_fen": pl.Int64, "raw": pl.Int128})


def contingent_liability(user, on: dt.date, what_if: rules.Params | None = None) -> dict:
    """Σ outstanding × ratio of the registered performing loans on ``on``: in all, by bank and by vintage
    (the year the loan started); each loan at the ratio fixed when it was registered, or, for a what-if,
    priced by another table (``what_if``) as if registered under it."""
    import polars as pl

    from . import rules_columnar

    bank_ids = None if user.has_perm("pool.view_all") else list(banks_for(user).values_list("pk", flat=True))
    if what_if is not None:
        loans = performing_registered(on, bank_ids)
        loans = loans.drop("ratio_e4").with_columns(rules_columnar.ratio_e4(what_if).alias("ratio_e4"))
        priced = loans.with_columns(pl.col("start_date").dt.year().alias("vintage"))
        sums = priced.group_by("bank_code", "vintage").agg(
            pl.len().alias("loans"), pl.col("outstanding_fen").sum(),
            (pl.col("outstanding_fen").cast(pl.Int128) * pl.col("ratio_e4")).sum().alias("raw"))
    else:
        sums = performing_sums(on, bank_ids)
    total = rules_columnar.liability_of_sums(sums)
    names = dict(registry.banks().values_list("code", "name"))
    by_bank = rules_columnar.liability_of_sums(sums, ["bank_code"]).sort("bank_code")
    by_vintage = rules_columnar.liability_of_sums(sums, ["vintage"]).sort("vintage")
    return {
        "total_fen": int(total["liability_fen"][0] or 0) if total.height else 0,
        "loans": int(total["loans"][0]) if total.height else 0,
        "by_bank": [{**r, "name": names.get(r["bank_code"], r["bank_code"])} for r in by_bank.to_dicts()],
        "by_vintage": by_vintage.to_dicts(),
    }


def expected_claims_fen(user, on: dt.date) -> int:
    """What the pool can expect to pay: the owed part of approved claims, the compensation of claims in
    progress, and loss × ratio of the NPLs without a claim yet (eligible ones, at their registration ratio)."""
    claims = claims_for(user)
    approved_owed = sum(c.approved_fen - c.paid_fen for c in claims.filter(status="approved"))
    open_fen = claims.filter(status__in=Claim.OPEN).aggregate(t=Sum("compensation_fen"))["t"] or 0
    inputs = unclaimed_npls()
    if not user.has_perm("pool.view_all"):
        code = getattr(getattr(user, "bank", None), "code", None)
        inputs.npls = [n for n in inputs.npls if n.bank_code == code]
    params = params_on(on)
    fixed = fixed_pricing_of_npls()
    unclaimed = 0
    for npl in inputs.npls:
        if npl.npl_date > on:
            continue
        key = (npl.bank_code, npl.loan_no)
        loan = inputs.loans[key]
        if loan.registered_date is None:
            continue
        pricing = fixed.get(key) or rules.loan_ratio(loan, params_on(loan.registered_date))
        assessed = rules.assess(loan, npl, inputs.registry, inputs.onboarded[key], params, pricing)
        unclaimed += assessed.compensation_fen
    return approved_owed + open_fen + unclaimed


def scorecard(user, on: dt.date) -> list[dict]:
    """Per bank: the NPL rate of its pool loans, its claims' approval rate, the days from NPL to claim and
    from claim to payment, its recovery rate; a suspension proposed above the parameter's NPL rate."""
    params = params_on(on)
    banks = list(banks_for(user).filter(onboarded_date__isnull=False))
    registered = dict(_registered(on).values("bank_id").annotate(n=Count("id")).values_list("bank_id", "n"))
    npls = dict(lending.non_performing().filter(npl_date__lte=on, loan__in=_registered(on))
                .values("loan__bank_id").annotate(n=Count("id")).values_list("loan__bank_id", "n"))
    out = []
    for bank in banks:
        claims = list(Claim.objects.filter(bank=bank, filed_on__lte=on))
        decided = [c for c in claims if c.status in ("approved", "denied")]
        approved = [c for c in decided if c.status == "approved"]
        first_pay = dict(PoolEntry.objects.filter(kind="payout", claim__in=approved, on__lte=on)
                         .values("claim_id").annotate(d=Min("on")).values_list("claim_id", "d"))
        to_claim = [(c.filed_on - c.npl_date).days for c in claims]
        to_pay = [(first_pay[c.pk] - c.filed_on).days for c in approved if c.pk in first_pay]
        paid = sum(c.paid_fen for c in approved)
        n_registered, n_npl = registered.get(bank.pk, 0), npls.get(bank.pk, 0)
        npl_rate = Decimal(n_npl) / Decimal(n_registered) if n_registered else None
        out.append({
            "bank": bank, "registered": n_registered, "npls": n_npl,
            "npl_rate": npl_rate, "claims": len(claims),
            "approval_rate": Decimal(len(approved)) / Decimal(len(decided)) if decided else None,
            "days_to_claim": _mean(to_claim), "days_to_pay": _mean(to_pay),
            "recovery_rate": Decimal(sum(c.returned_fen for c in approved)) / Decimal(paid) if paid else None,
            "propose_suspension": npl_rate is not None and npl_rate > params.suspension_npl_rate,
        })
    return out


def _mean(values: list[int]) -> Decimal | None:
    if not values:
        return None
    return (Decimal(sum(values)) / Decimal(len(values))).quantize(Decimal("0.1"))


# --- five-tier classification (五级分类) and the banks' files ----------------------------------------------

@dataclass(frozen=True)
class ClassificationHistory:
    """What a loan's reported classifications say of its NPL date: the first day it was classified 次级 or
    worse (``npl_date``), and the last day it was reported 正常 or 关注 (``last_performing``)."""

    npl_date: dt.date | None
    last_performing: dt.date | None


def classification_history(loan_id: int) -> ClassificationHistory:
    """The NPL date the classification history of one loan gives (``ClassificationHistory``)."""
    from .models import Classification

    bad = Q(tier__in=Classification.NON_PERFORMING)
    days = Classification.objects.filter(loan_id=loan_id).aggregate(npl=Min("on", filter=bad),
                                                                    performing=Max("on", filter=~bad))
    return ClassificationHistory(days["npl"], days["performing"])


def npl_dates_by_classification(loan_ids: Iterable[int]) -> dict[int, dt.date]:
    """Each loan's first day classified 次级 or worse, for the loans that have one (one query per 5,000)."""
    from .models import Classification

    ids, out = sorted(set(loan_ids)), {}
    for i in range(0, len(ids), 5000):
        rows = (Classification.objects.filter(loan_id__in=ids[i:i + 5000], tier__in=Classification.NON_PERFORMING)
                .values("loan_id").annotate(first=Min("on")).values_list("loan_id", "first"))
        out.update(rows)
    return out


def classifications_for(user):
    """The classifications a reader may see: every one for the bureau, auditors and administrators; its own
    bank's loans' for a bank's staff; none for anyone else."""
    from .models import Classification

    qs = Classification.objects.select_related("loan", "loan__bank")
    if user.has_perm("pool.view_all"):
        return qs
    if getattr(user, "role", None) == "bank" and user.bank_id:
        return qs.filter(loan__bank_id=user.bank_id)
    return qs.none()


def loan_for(user, pk: int):
    """One ledger loan as the pool shows it, if the reader may see it (a bank: its own)."""
    from huiqi.core.errors import NotFound

    qs = lending.loans().select_related("bank")
    if not user.has_perm("pool.view_all"):
        qs = qs.filter(bank_id=user.bank_id) if getattr(user, "role", None) == "bank" and user.bank_id else qs.none()
    loan = qs.filter(pk=pk).first()
    if loan is None:
        raise NotFound("pool.loan_not_found", _("没有这笔贷款"))
    return loan


def uploads_for(user):
    """The pool's uploaded files a reader may see: the bureau's readers all; a bank's staff their bank's."""
    from .models import PoolUpload

    qs = PoolUpload.objects.select_related("bank", "uploaded_by", "job")
    if user.has_perm("pool.view_all"):
        return qs
    if getattr(user, "role", None) == "bank" and user.bank_id:
        return qs.filter(bank_id=user.bank_id)
    return qs.none()


def claims_awaiting_evidence(user):
    """Open claims filed by file whose evidence the bank has not added yet (on the claim's page): the bureau
    cannot approve them before it does."""
    if not user.has_perm("pool.file_claim"):
        return Claim.objects.none()
    return claims_for(user).filter(status__in=["submitted", "returned"], upload__isnull=False, evidence="")


def reported_npl_date(user, loan_no: str) -> dt.date | None:
    """The NPL date a claim on the reader's bank's loan is filed with when none is given: the first day its
    reported classification is 次级 or worse, else its NPL record's; None when neither is held."""
    if not loan_no or getattr(user, "role", None) != "bank" or not user.bank_id:
        return None
    loan = lending.loans().filter(bank_id=user.bank_id, loan_no=loan_no).first()
    if loan is None:
        return None
    first = classification_history(loan.pk).npl_date
    if first is not None:
        return first
    npl = lending.non_performing().filter(loan=loan).first()
    return npl.npl_date if npl is not None else None


def report_jobs_for(user, *, done: bool = False):
    """The pool report PDF jobs the user asked for (``core.selectors.report_jobs``)."""
    from huiqi.core.selectors import report_jobs

    from .jobs import REPORT_KIND

    return report_jobs(user, REPORT_KIND, done=done)


# --- deliberate re-pricing ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RepricingSet:
    """Which registered loans a re-pricing takes (each blank: any), and the day whose ratio table prices them."""

    table_on: dt.date
    bank_id: int | None = None
    registered_from: dt.date | None = None
    registered_to: dt.date | None = None
    product: str = "any"

    @classmethod
    def of(cls, repricing) -> RepricingSet:
        return cls(repricing.table_on, repricing.bank_id, repricing.registered_from, repricing.registered_to,
                   repricing.product)


@dataclass(frozen=True)
class Repriced:
    """One registration of a re-pricing's set: its terms now and under the table; ``changed`` when its
    money terms (ratio or cap) differ."""

    registration_id: int
    bank_code: str
    loan_no: str
    outstanding_fen: int
    performing: bool
    before: rules.Pricing
    after: rules.Pricing

    @property
    def changed(self) -> bool:
        return self.before.ratio != self.after.ratio or self.before.cap != self.after.cap


def repricing_registrations(chosen: RepricingSet):
    """The covered registrations the set takes (screened-out loans are never priced)."""
    from .models import Registration

    qs = Registration.objects.filter(reason="")
    if chosen.bank_id is not None:
        qs = qs.filter(loan__bank_id=chosen.bank_id)
    if chosen.registered_from is not None:
        qs = qs.filter(registered_date__gte=chosen.registered_from)
    if chosen.registered_to is not None:
        qs = qs.filter(registered_date__lte=chosen.registered_to)
    if chosen.product == "first_loan":
        qs = qs.filter(loan__first_loan=True)
    elif chosen.product == "credit":
        qs = qs.filter(loan__guarantee="credit")
    return qs


def repricing_changes(chosen: RepricingSet, on: dt.date, ids=None):
    """Every registration of the set with its terms now and under the table in force on ``chosen.table_on``
    (``rules.loan_ratio``, as a registration that day would be priced), in id order; ``performing``: no NPL
    by ``on``. One pass over the set, read in chunks."""
    params = params_on(chosen.table_on)
    npl = set(lending.non_performing().filter(npl_date__lte=on, loan__in=repricing_registrations(chosen)
                                              .values("loan_id")).values_list("loan_id", flat=True))
    registrations = repricing_registrations(chosen)
    if ids is not None:
        registrations = registrations.filter(pk__in=list(ids))
    rows = (registrations.order_by("id")
            .values_list("id", "loan_id", "ratio", "cap", "row", "loan__bank__code", "loan__loan_no",
                         "loan__start_date", "loan__first_loan", "loan__guarantee", "loan__principal_fen"))
    for pk, loan_id, ratio, cap, row, code, no, start, first, guarantee, principal in rows.iterator(chunk_size=5000):
        loan = rules.Loan(code, no, "", "enterprise", None, guarantee, first, principal, start)
        yield Repriced(pk, code, no, principal, loan_id not in npl, rules.Pricing(ratio, cap, row),
                       rules.loan_ratio(loan, params))


def repricing_preview(user, chosen: RepricingSet, on: dt.date, *, sample: int = 20) -> dict:
    """What re-pricing the set would change, recording nothing, over whole columns (the what-if's
    ``rules_columnar``): how many loans it takes and how many change (their ratio or cap), the contingent
    liability of its performing loans before and after (the outstanding being the principal, as
    ``contingent_liability`` reads it), and the first changes (priced by ``rules.loan_ratio``)."""
    import polars as pl

    from . import rules_columnar

    empty = {"matched": 0, "changed": 0, "liability_before_fen": 0, "liability_after_fen": 0, "sample": []}
    if not user.has_perm("pool.view_all"):
        return empty
    params = params_on(chosen.table_on)
    npl = lending.non_performing().filter(npl_date__lte=on).values("loan_id")
    rows = (repricing_registrations(chosen).order_by("id")
            .values_list("id", "ratio", "cap", "loan__start_date", "loan__first_loan", "loan__guarantee",
                         "loan__principal_fen", "loan_id"))
    npl_ids = set(npl.filter(loan_id__in=repricing_registrations(chosen).values("loan_id"))
                  .values_list("loan_id", flat=True))
    frame = pl.DataFrame(
        [(pk, int(ratio * rules_columnar.SCALE), int(cap * rules_columnar.SCALE), start, first, guarantee, principal,
          loan_id not in npl_ids) for pk, ratio, cap, start, first, guarantee, principal, loan_id
         in rows.iterator(chunk_size=5000)], orient="row",
        schema={"id": pl.Int64, "ratio_before": pl.Int64, "cap_before": pl.Int64, "start_date": pl.Date,
                "first_loan": pl.Boolean, "guarantee": pl.String, "outstanding_fen": pl.Int64, "performing": pl.Boolean})
    if not frame.height:
        return empty
    frame = frame.with_columns(rules_columnar.ratio_e4(params).alias("ratio_e4"),
                               rules_columnar.cap_e4(params).alias("cap_after"))
    changed = frame.filter((pl.col("ratio_e4") != pl.col("ratio_before")) | (pl.col("cap_after") != pl.col("cap_before")))
    performing = frame.filter(pl.col("performing"))
    after = rules_columnar.contingent_liability(performing)
    before = rules_columnar.contingent_liability(performing.drop("ratio_e4").rename({"ratio_before": "ratio_e4"}))
    first = set(changed["id"].head(sample).to_list()) if sample else set()
    shown = [r for r in repricing_changes(chosen, on, ids=first)] if first else []
    return {"matched": frame.height, "changed": changed.height,
            "liability_before_fen": int(before["liability_fen"][0] or 0),
            "liability_after_fen": int(after["liability_fen"][0] or 0), "sample": shown}


def repricings_to_decide(user):
    """Proposed re-pricings waiting for a second person: never those the reader proposed."""
    from .models import Repricing

    if not user.has_perm("pool.reprice"):
        return Repricing.objects.none()
    return repricings_for(user).filter(status="proposed").exclude(proposed_by=user)


def repricings_for(user):
    from .models import Repricing

    if not user.has_perm("pool.view_all"):
        return Repricing.objects.none()
    return Repricing.objects.select_related("bank", "proposed_by", "decided_by")


# --- the dashboard's charts ------------------------------------------------------------------------------------

def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def money_by_month(user, on: dt.date) -> list[dict]:
    """The pool's money by month up to ``on``, as the reader may see it: top-ups, payouts and returns
    (recoveries, clawbacks, offsets), and the balance at each month's end (the bureau's readers only)."""
    from django.db.models.functions import TruncMonth

    rows = (entries_for(user).filter(on__lte=on).annotate(month=TruncMonth("on")).values("month", "kind")
            .annotate(total=Sum("amount_fen")).order_by("month"))
    months: dict[str, dict] = {}
    for r in rows:
        m = months.setdefault(_month(r["month"]), {"month": _month(r["month"]), "top_up_fen": 0, "payout_fen": 0,
                                                   "returned_fen": 0})
        key = {"top_up": "top_up_fen", "payout": "payout_fen"}.get(r["kind"], "returned_fen")
        m[key] += -r["total"] if r["kind"] == "payout" else r["total"]
    balance, out = 0, []
    for m in sorted(months.values(), key=lambda x: x["month"]):
        balance += m["top_up_fen"] - m["payout_fen"] + m["returned_fen"]
        out.append({**m, "balance_fen": balance if user.has_perm("pool.view_all") else None})
    return out


def claims_by_status(user, on: dt.date) -> list[dict]:
    """How many claims filed by ``on`` stand in each state, in the states' order."""
    counts = dict(claims_for(user).filter(filed_on__lte=on).values("status").annotate(n=Count("id"))
                  .values_list("status", "n"))
    return [{"status": code, "label": label, "claims": counts.get(code, 0)} for code, label in Claim.Status.choices]


def claims_by_bank(user, on: dt.date) -> list[dict]:
    """Per bank the reader may see: claims filed by ``on``, approved, and paid."""
    from django.db.models import Q

    rows = (claims_for(user).filter(filed_on__lte=on).values("bank__code", "bank__name")
            .annotate(claims=Count("id"), approved=Count("id", filter=Q(status="approved")), paid_fen=Sum("paid_fen"))
            .order_by("bank__code"))
    return [{"bank_code": r["bank__code"], "name": r["bank__name"], "claims": r["claims"], "approved": r["approved"],
             "paid_fen": r["paid_fen"] or 0} for r in rows]


def lending_by_month(user, on: dt.date) -> list[dict]:
    """Loans registered in the pool (covered) by month of registration up to ``on``: count and principal."""
    from django.db.models.functions import TruncMonth

    bank_ids = None if user.has_perm("pool.view_all") else list(banks_for(user).values_list("pk", flat=True))
    rows = (_registered(on, bank_ids).annotate(month=TruncMonth("pool_registration__registered_date"))
            .values("month").annotate(loans=Count("id"), principal_fen=Sum("principal_fen")).order_by("month"))
    return [{"month": _month(r["month"]), "loans": r["loans"], "principal_fen": r["principal_fen"] or 0} for r in rows]


def lending_by_vintage(user, on: dt.date) -> list[dict]:
    """Loans in the pool on ``on`` by the year they started: count and principal."""
    from django.db.models.functions import ExtractYear

    bank_ids = None if user.has_perm("pool.view_all") else list(banks_for(user).values_list("pk", flat=True))
    rows = (_registered(on, bank_ids).annotate(vintage=ExtractYear("start_date")).values("vintage")
            .annotate(loans=Count("id"), principal_fen=Sum("principal_fen")).order_by("vintage"))
    return [{"vintage": r["vintage"], "loans": r["loans"], "principal_fen": r["principal_fen"] or 0} for r in rows]


# --- lists ---------------------------------------------------------------------------------------------

def registrations_for(user):
    """The loans registered in the pool (covered or screened out) a reader may see: every one for the
    bureau, auditors and administrators; its own bank's for a bank's staff; none for anyone else."""
    from .models import Registration

    qs = Registration.objects.select_related("loan", "loan__bank")
    if user.has_perm("pool.view_all"):
        return qs
    if getattr(user, "role", None) == "bank" and user.bank_id:
        return qs.filter(loan__bank_id=user.bank_id)
    return qs.none()


def claims_for_loans(user, loan_ids):
    """The claims the reader may see on these loans, newest first (a list's last column)."""
    return claims_for(user).filter(loan_id__in=list(loan_ids)).order_by("-filed_at", "-id")
