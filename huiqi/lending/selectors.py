"""Ledger reads. Pages read through the ``*_for(user)`` selectors, scoped to the asking user: a bank its
own rows, the bureau everything. Other programs read the ledger through the unscoped ones below, scope
what they show with ``scope_loans``, and the interest subsidy's batch calculation reads the whole ledger
as columns (``ledger_snapshot``, ``ledger_rows``, ``ledger_summed``): no other app reads lending's
tables itself."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery

from huiqi.accounts.selectors import Role

from . import snapshot
from .bulk.columnar import read_query
from .models import BorrowerKind, InterestPayment, LedgerUpload, Loan, NonPerformingLoan
from .permissions import scope_loans  # noqa: F401 - other programs scope loans through it

# A resident ID shown in an audit record, a page or a file: the first four and last four characters.
mask_borrower_id = Loan.AUDIT_MASK["borrower_id"]


def identifier_search(field: str, value: str) -> Q:
    """Rows whose borrower identifier ``field`` a search for ``value`` finds: any part of an identifier
    the pages show whole (a USCC), only the whole of one they show masked (``mask_borrower_id``: a
    person's resident ID) — a part would reveal the masked middle one guess at a time."""
    shown_whole = (Q(**{f"{field}__startswith": "91"}) | Q(**{f"{field}__startswith": "92"})
                   | Q(**{f"{field}__regex": r"^[A-Za-z]"}) | ~Q(**{f"{field}__regex": r"^.{18}$"}))
    return Q(**{field: value.strip().upper()}) | (Q(**{f"{field}__icontains": value}) & shown_whole)


def loans():
    """Every loan, unscoped: for another program's own queries (it scopes what it shows)."""
    return Loan.objects.all()


def frame(queryset, schema: dict) -> pl.DataFrame:
    """The rows of a ``values_list`` queryset over the ledger (``loans()``, ``non_performing()``, filtered
    and joined by the caller) as a polars frame with ``schema``, one key per value in order: read through
    ``COPY`` on PostgreSQL, for another program's set-based calculation (the pool's registration)."""
    sql, params = queryset.query.sql_with_params()
    return read_query(sql, list(params), schema)


def loans_for(user):
    """The loans the user may see, by bank and number (``filters.LoanFilter`` narrows the list)."""
    return Loan.objects.for_user(user).select_related("bank").order_by("bank__code", "loan_no")


def uploads_for(user):
    """Uploads a user may see: a bank's staff those of its bank, the bureau and auditors all."""
    role = getattr(user, "role", None)
    if not getattr(user, "is_authenticated", False):
        return LedgerUpload.objects.none()
    if role in (Role.BUREAU, Role.ADMIN, Role.AUDITOR):
        return LedgerUpload.objects.all()
    if role == Role.BANK:
        return LedgerUpload.objects.filter(bank_id=user.bank_id)
    return LedgerUpload.objects.none()


def uploads_to_send_again(user):
    """The user's bank's files of a kind whose latest upload was refused or broke off: until a later upload of
    that kind is stored, the bank has a file to correct and send again."""
    mine = uploads_for(user)
    latest = (mine.filter(kind=OuterRef("kind"), bank_id=OuterRef("bank_id")).order_by("-uploaded_at", "-id")
              .values("pk")[:1])
    return mine.filter(pk=Subquery(latest),
                       status__in=[LedgerUpload.Status.REFUSED, LedgerUpload.Status.FAILED])


# --------------------------------------------------------------------------------------------------
# The whole ledger as columns, for a program's batch calculation (the interest subsidy). Not scoped to a
# user: the calling service has checked that its actor may run the calculation.


@dataclass(frozen=True)
class FirstMonths:
    """The payments that matter: those with days inside the first ``months`` months of a loan for
    ``purpose`` started from ``started_from`` to ``started_to`` (both included), the period
    ``[start_date, start_date + months)`` with a month's end clamped (2020-08-31 + 6 months =
    2021-02-28)."""

    months: int
    purpose: str
    started_from: dt.date
    started_to: dt.date


@dataclass(frozen=True)
class Ledger:
    """Every loan, the interest payments paid by a day, and the registry entries of every borrower and
    owned enterprise, as polars frames. ``loans``: ``snapshot.LOAN_SCHEMA`` (owner_of null when the loan
    has none); ``registry``: ``snapshot.REGISTRY_SCHEMA``; ``payments`` as each read says."""

    loans: pl.DataFrame
    payments: pl.DataFrame
    registry: pl.DataFrame


# A payment named by its loan's bank code and number instead of its id.
KEYED_PAYMENT_SCHEMA = {"bank_code": pl.String, "loan_no": pl.String,
                        **{k: v for k, v in snapshot.PAYMENT_SCHEMA.items() if k != "loan_id"}}
WHOLE_FEN = "whole_fen"  # ``ledger_summed``'s column of the loans


def snapshot_enabled() -> bool:
    """Whether ``ledger_snapshot`` reads here (PostgreSQL, unless ``HUIQI_LEDGER_SNAPSHOT`` is off)."""
    return snapshot.enabled()


def ledger_snapshot(paid_by: dt.date) -> Ledger:
    """PostgreSQL, from the ledger snapshot (``snapshot.read``: one committed state, on disk per version):
    the payments paid on or before ``paid_by``, by ``loan_id`` (``snapshot.PAYMENT_SCHEMA``)."""
    snap = snapshot.read()
    return Ledger(snap.loans, snap.payments.filter(pl.col("paid_date") <= paid_by), snap.registry)


def ledger_rows(paid_by: dt.date, first_months: FirstMonths | None = None) -> Ledger:
    """``ledger_snapshot`` read from the tables (SQLite, or the snapshot off), the payments named by
    their loan's (bank_code, loan_no) (``KEYED_PAYMENT_SCHEMA``); given ``first_months``, only those
    with days inside that period. The payments are read first: a loan stored while this runs then
    simply has no payments here, and a payment of a loan stored after the loans were read is left out."""
    loan, payment = Loan._meta.db_table, InterestPayment._meta.db_table
    where, where_params = "p.paid_date <= %s", [paid_by]
    if first_months is not None:
        where += (" AND l.purpose = %s AND l.start_date BETWEEN %s AND %s AND p.accrual_end > l.start_date"
                  f" AND p.accrual_start < {months_after_sql('l.start_date', first_months.months)}")
        where_params += [first_months.purpose, first_months.started_from, first_months.started_to]
    payments = read_query(
        f"SELECT {', '.join('p.' + c for c in snapshot.PAYMENT_SCHEMA)} FROM {payment} p "
        f"JOIN {loan} l ON l.id = p.loan_id WHERE {where}", where_params, snapshot.PAYMENT_SCHEMA)
    loans = _read_part("loans")
    return Ledger(loans, _keyed(payments, loans), _read_part("registry"))


def months_after_sql(day: str, months: int) -> str:
    """SQL for the date ``months`` months after the date ``day`` (an SQL expression), the day clamped to
    the month's end as ``FirstMonths`` says. PostgreSQL's interval arithmetic clamps; SQLite's date()
    rolls over into the next month (2021-01-31 + 1 month = 2021-03-03), so there the earlier of that and
    the target month's last day is taken."""
    months = int(months)  # written into the statement
    if connection.vendor == "postgresql":
        return f"({day} + make_interval(months => {months}))::date"
    return f"min(date({day}, '+{months} months'), date({day}, 'start of month', '+{months + 1} months', '-1 day'))"


def _read_part(part: str) -> pl.DataFrame:
    """One part of the snapshot (``snapshot.part_sql``) read from the tables."""
    columns, source = snapshot.part_sql(part)
    schema = {"loans": snapshot.LOAN_SCHEMA, "registry": snapshot.REGISTRY_SCHEMA}[part]
    return read_query(f"SELECT {', '.join(columns)} FROM {source}", [], schema)


def _keyed(payments: pl.DataFrame, loans: pl.DataFrame) -> pl.DataFrame:
    """Payments (by loan id) named by their loan's (bank_code, loan_no); those of a loan not in ``loans``
    are left out."""
    return payments.join(loans.select(pl.col("id").alias("loan_id"), "bank_code", "loan_no"), on="loan_id").select(
        list(KEYED_PAYMENT_SCHEMA))


_INT64_MAX = 2**63 - 1


def ledger_summed(paid_by: dt.date, first_months: FirstMonths) -> Ledger:
    """PostgreSQL only, the loans and payments in one statement (one snapshot of the database), summed
    by the database: every loan with ``whole_fen``, the Σ interest of its payments paid on or before
    ``paid_by`` that lie wholly inside its ``first_months`` period (null for the other loans), and
    (``KEYED_PAYMENT_SCHEMA``) only the payments paid by then that the period's edge cuts."""
    loan, payment = Loan._meta.db_table, InterestPayment._meta.db_table
    loan_columns, loan_source = snapshot.part_sql("loans")
    # A payment has days inside the period [s, e) when accrual_start < e AND accrual_end > s; it lies
    # wholly inside when accrual_start >= s AND accrual_end <= e, else the period's edge cuts it.
    # A loan whose whole sum would not fit in a bigint (only on absurd ledgers) is not summed here:
    # all its payments are sent, and the caller sums them in wider integers.
    # The cut payments (a few per cent) are found again through the (loan, accrual_start) index, one
    # loan at a time (OFFSET 0 keeps PostgreSQL from flattening that into a scan of every payment).
    sql = f"""
        WITH period AS MATERIALIZED (
            SELECT id, start_date AS s, {months_after_sql('start_date', first_months.months)} AS e FROM {loan}
            WHERE purpose = %s AND start_date BETWEEN %s AND %s),
        counted AS MATERIALIZED (
            SELECT p.loan_id, x.s, x.e,
                   SUM(p.interest_fen) FILTER (WHERE p.accrual_start >= x.s AND p.accrual_end <= x.e) AS whole,
                   bool_or(p.accrual_start < x.s OR p.accrual_end > x.e) AS cut
            FROM {payment} p JOIN period x ON x.id = p.loan_id
            WHERE p.paid_date <= %s AND p.accrual_start < x.e AND p.accrual_end > x.s
            GROUP BY p.loan_id, x.s, x.e)
        SELECT 'L', {', '.join(loan_columns)}, CASE WHEN c.whole <= {_INT64_MAX} THEN c.whole::bigint END,
               NULL::date, NULL::date, NULL::date, NULL::bigint
        FROM {loan_source} LEFT JOIN counted c ON c.loan_id = l.id
        UNION ALL
        SELECT 'P', NULL, NULL, NULL, NULL, NULL, NULL, NULL::date, NULL, c.loan_id, NULL,
               p.accrual_start, p.accrual_end, p.paid_date, p.interest_fen
        FROM counted c CROSS JOIN LATERAL (
            SELECT * FROM {payment} p WHERE p.loan_id = c.loan_id AND p.paid_date <= %s
            AND p.accrual_start < c.e AND p.accrual_end > c.s
            AND (p.accrual_start < c.s OR p.accrual_end > c.e OR c.whole > {_INT64_MAX})
            OFFSET 0) p
        WHERE c.cut OR c.whole > {_INT64_MAX}"""
    schema = {"row": pl.String, **snapshot.LOAN_SCHEMA, WHOLE_FEN: pl.Int64, **snapshot.PAYMENT_SCHEMA}
    del schema["loan_id"]  # the payments' loan id travels in the loans' id column
    with transaction.atomic(), connection.cursor() as cursor:
        # Without statistics (tables never ANALYZEd after an import) the planner's estimates for this
        # statement can be far off, enough for it to compile the plan (JIT), which costs more than
        # running it; SET LOCAL ends with this transaction.
        cursor.execute("SET LOCAL jit = off")
        rows = read_query(sql, [first_months.purpose, first_months.started_from, first_months.started_to,
                                paid_by, paid_by], schema)
    loans = rows.filter(pl.col("row") == "L").select(*snapshot.LOAN_SCHEMA, WHOLE_FEN)
    payments = rows.filter(pl.col("row") == "P").select(
        pl.col("id").alias("loan_id"), *(k for k in snapshot.PAYMENT_SCHEMA if k != "loan_id"))
    return Ledger(loans, _keyed(payments, loans), _read_part("registry"))


def owned_enterprises(owners) -> dict[str, str]:
    """For each business owner (resident ID) among ``owners`` who borrowed as one, the enterprise owned
    (USCC) named by their first such loan in (bank code, loan number) order."""
    owned_by: dict[str, str] = {}
    owners = sorted(owners)
    for i in range(0, len(owners), 5000):
        rows = sorted(Loan.objects.filter(borrower_id__in=owners[i:i + 5000], borrower_kind="business_owner")
                      .exclude(owner_of="").order_by()
                      .values_list("bank__code", "loan_no", "borrower_id", "owner_of"))
        for _, _, owner, owned in rows:
            owned_by.setdefault(owner, owned)
    return owned_by


def non_performing():
    """Every non-performing loan record, unscoped: for another program's own queries (the risk-compensation
    pool's claims); it scopes what it shows."""
    return NonPerformingLoan.objects.all()


def bank_weights() -> dict[str, float]:
    """How much each partner bank lends, relative to the others, as the demo city's ledger spreads its loans
    (the large state and joint-stock banks most): for other programs' demo data to follow the same shape."""
    from .demo import CORPORATE_BANK_WEIGHTS

    return dict(CORPORATE_BANK_WEIGHTS)
