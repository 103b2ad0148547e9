"""The four files banks send (``specs/bank-data-exchange.md``): loans, interest payments, NPLs, banks.

Each is an ``Importer`` for ``core.uploads``: its columns (Chinese or English headers), the checks
across fields and against the database, and a store that creates new rows and replaces corrected
ones (every replacement audited). A bank may upload only its own rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import polars as pl
from django.db import transaction
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy, gettext_lazy as _

from huiqi.accounts.selectors import Role
from huiqi.core import audit, clock, uploads
from huiqi.core.errors import ValidationFailed
from huiqi.core.i18n import EN, render, stored
from huiqi.core.identifiers import uscc_entity_kind, validate_resident_id, validate_uscc
from huiqi.core.money import yuan_to_fen
from huiqi.core.tabular import (
    Column, RowError, Schema, parse_bool_yn, parse_choice, parse_date, parse_decimal, parse_text,
)
from huiqi.registry import selectors as registry_selectors
from huiqi.registry import services as registry_services

from .bulk.columnar import Declined, read_query
from .bulk.identifiers import plain_valid_owner, plain_valid_uscc
from .bulk.load import ColumnarImporter
from .bulk.store import Reference, upsert_frame
from .models import BorrowerKind, Guarantee, InterestPayment, LedgerUpload, Loan, NonPerformingLoan, Purpose

BORROWER_KINDS = {"enterprise": "enterprise", "企业": "enterprise",
                  "individual_business": "individual_business", "个体工商户": "individual_business",
                  "business_owner": "business_owner", "小微企业主": "business_owner"}
PURPOSES = {"operating": "operating", "经营性": "operating", "other": "other", "其他": "other"}
GUARANTEES = {"credit": "credit", "信用": "credit", "guaranteed": "guaranteed", "保证": "guaranteed",
              "mortgage": "mortgage", "抵押": "mortgage", "pledge": "pledge", "质押": "pledge"}
assert set(BORROWER_KINDS.values()) == set(BorrowerKind.values)
assert set(PURPOSES.values()) == set(Purpose.values) and set(GUARANTEES.values()) == set(Guarantee.values)

# The references that the triggers of migrations 0004 and 0005 hold, and those insert triggers: a bulk
# load checks them itself (``bulk.store.upsert_frame``).
LOAN_BANK = Reference("bank_id", registry_selectors.sql_tables()["bank"], "lending_loan_banks_exist_insert")
PAYMENT_LOAN = Reference("loan_id", Loan._meta.db_table, "lending_payment_loans_exist_insert")

BANK = Column("bank_code", "银行机构代码", parser=parse_text(32), help=_("报送银行在平台登记的机构代码"),
              example="ICBC-SZ")
LOAN_NO = Column("loan_no", "贷款合同编号", parser=parse_text(64), help=_("贷款合同编号，在本行内唯一"),
                 example=_("示例-2020-0001"))
EXAMPLE_USCC = "91440300AY4CL12T24"  # a valid code of the example rows (``core.identifiers``)
YES = _("是")


class LedgerImporter(uploads.Importer):
    """Shared by the ledger files: the uploader (a bank's staff may send only its own rows)."""

    def __init__(self, actor):
        self.actor = actor
        self.own_bank = actor.bank_id if getattr(actor, "role", None) == Role.BANK else None
        self.banks = dict(registry_selectors.banks().values_list("code", "id"))
        self.scope_banks: list[int] | None = None  # frame_prepare's

    def same_file_scope(self, model):
        return model.objects.filter(kind=self.name)

    def frame_prepare(self, batches) -> None:
        # A file of several batches: the stored rows of every bank it may name are read in one go.
        self.scope_banks = None if batches.single else self._writable_banks()

    def _bank_column(self) -> Column:
        """The bank column, whose code list is the banks the uploader may send rows for."""
        return dataclasses.replace(BANK, codes=self._bank_codes)

    def _bank_codes(self) -> list[tuple[str, str]]:
        qs = registry_selectors.banks().order_by("code")
        if self.own_bank is not None:
            qs = qs.filter(pk=self.own_bank)
        return list(qs.values_list("code", "name"))

    def _writable_banks(self) -> list[int]:
        """The banks the uploader may send rows for."""
        return [self.own_bank] if self.own_bank is not None else sorted(self.banks.values())

    def _bank_ids(self, frame: pl.DataFrame) -> pl.Series:
        """The columnar pass's bank check: every code known, and the uploader's own."""
        for code in frame["bank_code"].unique().to_list():
            if self._bank_errors({"bank_code": code, "_row": 0}):
                raise Declined("an unknown bank or another bank's rows")
        return frame["bank_code"].replace_strict(self.banks, return_dtype=pl.Int64).alias("bank_id")

    def _bank_errors(self, row) -> list[RowError]:
        code = row["bank_code"]
        if code is None:  # blank or unreadable: the row's error says so
            return []
        bank_id = self.banks.get(code)
        if bank_id is None:
            return [RowError.of(row["_row"], "bank_code", code, _("未知的银行机构代码 %(code_text)s"), code_text=code)]
        if self.own_bank is not None and bank_id != self.own_bank:
            return [RowError.of(row["_row"], "bank_code", code, _("只能报送本行的数据，%(code_text)s 不是本行"),
                             code_text=code)]
        return []


def _money(places=2, **bounds):
    return parse_decimal(places=places, **bounds)


class LoanImporter(LedgerImporter, ColumnarImporter):
    name = "loans"
    key = ("bank_code", "loan_no")

    def schema(self) -> Schema:
        return Schema("loans", (
            self._bank_column(), LOAN_NO,
            Column("borrower_id", "借款人证件号码", parser=parse_text(18), example=EXAMPLE_USCC,
                   help=_("企业、个体工商户填统一社会信用代码（18 位）；小微企业主填居民身份证号码")),
            Column("borrower_name", "借款人名称", parser=parse_text(200), example=_("深圳市示例科技有限公司"),
                   help=_("借款人的名称或姓名")),
            Column("borrower_kind", "借款人类型", parser=parse_choice(BORROWER_KINDS, dict(BorrowerKind.choices)),
                   example=BorrowerKind.ENTERPRISE.label,
                   help=_("须与证件号码相符：91 开头为企业，92 开头为个体工商户，身份证号码为小微企业主")),
            Column("owner_of", "所属企业证件号码", required=False, parser=parse_text(18),
                   help=_("仅小微企业主填写：其所有的企业或个体工商户的统一社会信用代码")),
            Column("purpose", "贷款用途", parser=parse_choice(PURPOSES, dict(Purpose.choices)),
                   example=Purpose.OPERATING.label, help=_("贷款用途")),
            Column("guarantee", "担保方式", parser=parse_choice(GUARANTEES, dict(Guarantee.choices)),
                   example=Guarantee.CREDIT.label, help=_("贷款的担保方式")),
            Column("first_loan", "是否首贷", parser=parse_bool_yn(), example=YES,
                   help=_("是否为借款人在银行业的首笔贷款")),
            Column("principal", "贷款金额（元）", parser=_money(min=0, min_exclusive=True), aliases=("贷款金额",),
                   example="1000000.00", help=_("合同贷款金额，单位元")),
            Column("annual_rate", "年利率（%）", parser=parse_decimal(places=4, min=0, min_exclusive=True, max=24),
                   aliases=("年利率",), example="3.85", help=_("合同年利率，按百分数填写，如 3.85")),
            Column("start_date", "放款日期", parser=parse_date(), example="2020-03-01", help=_("贷款发放日期")),
            Column("maturity_date", "到期日期", parser=parse_date(), example="2021-02-28",
                   help=_("贷款到期日期，须晚于放款日期")),
            Column("extension_of", "原贷款合同编号", required=False, parser=parse_text(64),
                   help=_("本笔贷款为展期时，填写原贷款的合同编号")),
            Column("registered_date", "入库日期", required=False, parser=parse_date(), example="2020-03-02",
                   help=_("贷款纳入风险补偿资金池的日期，不早于放款日期；不填为报送当天")),
        ))

    def row_checks(self, row):
        """Checks across the fields of a row; each runs on what it needs (None: blank or unreadable)."""
        if row["maturity_date"] and row["start_date"] and row["maturity_date"] <= row["start_date"]:
            yield ("maturity_date", _("到期日期必须晚于放款日期"))
        if row.get("registered_date") and row["start_date"] and row["registered_date"] < row["start_date"]:
            yield ("registered_date", _("入库日期不能早于放款日期"))
        kind = row["borrower_kind"]
        if kind is None or row["borrower_id"] is None:
            return
        try:
            if kind == "business_owner":
                row["borrower_id"] = validate_resident_id(row["borrower_id"], field="borrower_id")
            else:
                row["borrower_id"] = validate_uscc(row["borrower_id"], field="borrower_id")
        except ValidationFailed as exc:
            yield ("borrower_id", exc.msgid, exc.params)
            return
        if kind != "business_owner":
            actual = uscc_entity_kind(row["borrower_id"])
            if actual != kind:
                yield ("borrower_kind", _("借款人类型与证件号码不符：代码前两位 %(borrower_id_part)s（企业为 91，个体工商户为 92）"), {"borrower_id_part": row["borrower_id"][:2]})
            if row["owner_of"]:
                yield ("owner_of", _("只有小微企业主才填写所属企业"))
        elif not row["owner_of"]:
            yield ("owner_of", _("小微企业主必须填写所属企业证件号码"))
        else:
            try:
                row["owner_of"] = validate_uscc(row["owner_of"], field="owner_of")
            except ValidationFailed as exc:
                yield ("owner_of", exc.msgid, exc.params)

    def check_chunk(self, rows):
        errors = []
        for row in rows:
            errors.extend(self._bank_errors(row))
        return errors

    def build(self, rows):
        for r in rows:
            yield {"bank_id": self.banks[r["bank_code"]], "loan_no": r["loan_no"], "borrower_id": r["borrower_id"],
                   "borrower_name": r["borrower_name"], "borrower_kind": r["borrower_kind"],
                   "owner_of": r["owner_of"] or "", "purpose": r["purpose"], "guarantee": r["guarantee"],
                   "first_loan": r["first_loan"], "principal_fen": yuan_to_fen(r["principal"]),
                   "annual_rate": r["annual_rate"], "start_date": r["start_date"],
                   "maturity_date": r["maturity_date"], "extension_of": r["extension_of"] or "",
                   "registered_date": r["registered_date"] or self.upload_day}

    FIELDS = ("borrower_id", "borrower_name", "borrower_kind", "owner_of", "purpose", "guarantee", "first_loan",
              "principal_fen", "annual_rate", "start_date", "maturity_date", "extension_of", "registered_date")

    @cached_property
    def upload_day(self) -> dt.date:
        """The day a blank ``registered_date`` stands for: the upload's (the demo's day in a demo)."""
        return clock.today()

    frame_key = ("bank_id", "loan_no")

    def frame_checks(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``row_checks`` on each distinct (kind, identifier, owned enterprise) of the file, which also
        gives the identifiers as stored; the dates compared on the whole columns."""
        if (frame["maturity_date"] <= frame["start_date"]).any():
            raise Declined("a maturity not after the start")
        frame = frame.with_columns(pl.col("registered_date").fill_null(self.upload_day))
        if (frame["registered_date"] < frame["start_date"]).any():
            raise Declined("a registration before the start")
        people = frame.select("borrower_kind", "borrower_id", "owner_of").unique()
        # Most borrowers are enterprises and individual businesses with a plain, valid USCC, or business
        # owners with a plain, valid resident ID and owned enterprise: those are told apart on whole
        # columns (``plain_valid_uscc``, ``plain_valid_owner``) and stored as read; the others (any
        # unusual spelling) go through ``row_checks`` one by one.
        # Each check on the rows it can pass (the other is false there): half the work of both on all.
        owner = pl.col("borrower_kind") == "business_owner"
        people = pl.concat([
            people.filter(~owner.fill_null(False)).with_columns(plain_valid_uscc().alias("plain")),
            people.filter(owner.fill_null(False)).with_columns(plain_valid_owner(dt.date.today()).alias("plain"))])
        plain = people.filter(pl.col("plain")).drop("plain")
        people = people.filter(~pl.col("plain")).drop("plain")
        stored_id, stored_owner = [], []
        for kind, borrower_id, owner_of in people.iter_rows():
            row = {"borrower_kind": kind, "borrower_id": borrower_id, "owner_of": owner_of,
                   "start_date": _A_DAY, "maturity_date": _A_DAY + dt.timedelta(days=1)}
            problems = list(self.row_checks(row))
            if problems:
                column, message, *params = problems[0]
                raise Declined(f"a bad borrower: {render(message, params[0] if params else None, EN)}")
            stored_id.append(row["borrower_id"])
            stored_owner.append(row["owner_of"] or "")
        people = pl.concat([
            plain.with_columns(pl.col("borrower_id").alias("stored_id"), pl.col("owner_of").fill_null("").alias("stored_owner")),
            people.with_columns(pl.Series("stored_id", stored_id, dtype=pl.String),
                                pl.Series("stored_owner", stored_owner, dtype=pl.String))])
        frame = frame.join(people, on=["borrower_kind", "borrower_id", "owner_of"], how="left", nulls_equal=True,
                           maintain_order="left")
        rate = pl.col("annual_rate")
        return frame.select(
            self._bank_ids(frame), "loan_no", pl.col("stored_id").alias("borrower_id"), "borrower_name",
            "borrower_kind", pl.col("stored_owner").alias("owner_of"), "purpose", "guarantee", "first_loan",
            pl.col("principal").alias("principal_fen"),  # 2 places: the amount in fen
            ((rate // 10_000).cast(pl.String) + "." + (rate % 10_000).cast(pl.String).str.zfill(4))
            .alias("annual_rate"),
            "start_date", "maturity_date", pl.col("extension_of").fill_null(""), "registered_date",
        )

    def store_frame(self, frames, actor, record, rows_hint=None, locked=None):
        created, updated = upsert_frame(Loan, frames, self.frame_key, self.FIELDS, actor, record,
                                                scope="m.bank_id = ANY(%s)", scope_of=_banks_of,
                                                scope_first=self.scope_banks, extra={"upload_id": record.pk},
                                                references=(LOAN_BANK,), rows_hint=rows_hint, locked=locked)
        _batch_audit(actor, record, created, updated)
        return created, updated

    @transaction.atomic
    def store(self, targets, actor, record):
        existing = {}
        by_bank: dict[int, list[str]] = {}
        for t in targets:
            by_bank.setdefault(t["bank_id"], []).append(t["loan_no"])
        for bank_id, numbers in by_bank.items():
            for i in range(0, len(numbers), 5000):
                for v in Loan.objects.filter(bank_id=bank_id, loan_no__in=numbers[i:i + 5000]).values(
                        "id", "bank_id", "loan_no", *self.FIELDS):
                    v["annual_rate"] = Decimal(v["annual_rate"]).quantize(Decimal("0.0001"))
                    existing[(v.pop("bank_id"), v.pop("loan_no"))] = v
        created, updated = uploads.upsert(Loan, targets, ("bank_id", "loan_no"), self.FIELDS, existing, actor,
                                          record, extra={"upload_id": record.pk})
        _batch_audit(actor, record, created, updated)
        return created, updated


class PaymentImporter(LedgerImporter, ColumnarImporter):
    name = "payments"
    key = ("bank_code", "loan_no", "accrual_start")

    def __init__(self, actor):
        super().__init__(actor)
        self.loans_held = pl.DataFrame(schema={"bank_id": pl.Int64, "loan_no": pl.String, "loan_id": pl.Int64})

    def schema(self) -> Schema:
        return Schema("payments", (
            self._bank_column(), LOAN_NO,
            Column("accrual_start", "计息起日", parser=parse_date(), example="2020-03-01",
                   help=_("计息区间的第一天（含）")),
            Column("accrual_end", "计息止日", parser=parse_date(), example="2020-03-21",
                   help=_("计息区间的结束日（不含，算头不算尾），须晚于计息起日")),
            Column("paid_date", "付息日期", parser=parse_date(), example="2020-03-21",
                   help=_("实际付息的日期，不早于计息起日")),
            Column("interest", "实付利息（元）", parser=_money(min=0), aliases=("实付利息",), example="2138.89",
                   help=_("该区间实际支付的利息，单位元")),
        ))

    def row_checks(self, row):
        start, end, paid = row["accrual_start"], row["accrual_end"], row["paid_date"]
        if start and end and end <= start:
            yield ("accrual_end", _("计息止日必须晚于计息起日（区间为算头不算尾）"))
        if start and paid and paid < start:
            yield ("paid_date", _("付息日期不能早于计息起日"))

    def check_chunk(self, rows):
        errors = []
        wanted: dict[int, set[str]] = {}
        for row in rows:
            bank_errors = self._bank_errors(row)
            errors.extend(bank_errors)
            if not bank_errors and row["bank_code"] is not None and row["loan_no"] is not None:
                wanted.setdefault(self.banks[row["bank_code"]], set()).add(row["loan_no"])
        self.loans = getattr(self, "loans", {})
        for bank_id, numbers in wanted.items():
            numbers = list(numbers - {n for (b, n) in self.loans if b == bank_id})
            for i in range(0, len(numbers), 5000):
                for pk, no in Loan.objects.filter(bank_id=bank_id, loan_no__in=numbers[i:i + 5000]).values_list(
                        "id", "loan_no"):
                    self.loans[(bank_id, no)] = pk
        failed = {e.row for e in errors}
        for row in rows:
            bank_id = self.banks.get(row["bank_code"])
            if (bank_id is not None and row["loan_no"] is not None and (bank_id, row["loan_no"]) not in self.loans
                    and row["_row"] not in failed):
                errors.append(RowError.of(row["_row"], "loan_no", row["loan_no"],
                                       _("该行没有贷款合同编号为 %(loan_no)s 的贷款，请先报送贷款台账"), loan_no=row["loan_no"]))
        return errors

    def build(self, rows):
        for r in rows:
            yield {"loan_id": self.loans[(self.banks[r["bank_code"]], r["loan_no"])],
                   "accrual_start": r["accrual_start"], "accrual_end": r["accrual_end"],
                   "paid_date": r["paid_date"], "interest_fen": yuan_to_fen(r["interest"])}

    FIELDS = ("accrual_end", "paid_date", "interest_fen")

    frame_key = ("loan_id", "accrual_start")

    def frame_prepare_locked(self, batches) -> None:
        """The stored loans (bank, loan number, id) of the banks the file can name, read once: those named
        in a file of one batch, else every bank the uploader may send rows for. Read once the payments
        are locked against other writers, every loan read stays until the write commits: no payment's
        loan needs checking afterwards (``store_frame`` vouches for them)."""
        if batches.single:
            banks = sorted({self.banks[c] for c in batches.first_texts("bank_code") if c in self.banks})
        else:
            banks = self._writable_banks()
        self.loans_held = _loan_ids(banks)

    def frame_checks(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The period checks and the banks on whole columns; each (bank, loan number) resolved against the
        stored loans ``frame_prepare_locked`` read."""
        if ((frame["accrual_end"] <= frame["accrual_start"]) | (frame["paid_date"] < frame["accrual_start"])).any():
            raise Declined("a bad accrual period")
        frame = frame.with_columns(self._bank_ids(frame))
        # An inner join (half the time of a left one here): a payment whose loan is not held drops out.
        rows = frame.height
        frame = frame.join(self.loans_held, on=["bank_id", "loan_no"], how="inner", maintain_order="left")
        if frame.height != rows:
            raise Declined("a payment for a loan not held")
        return frame.select("bank_id", "loan_id", "accrual_start", "accrual_end", "paid_date",
                            pl.col("interest").alias("interest_fen"))

    def store_frame(self, frames, actor, record, rows_hint=None, locked=None):
        # Every loan id comes from ``loans_held``: read by ``locked`` (``frame_prepare_locked``), after the
        # lock, when it is given.
        created, updated = upsert_frame(
            InterestPayment, frames, self.frame_key, self.FIELDS, actor, record,
            scope=f"m.loan_id IN (SELECT id FROM {Loan._meta.db_table} WHERE bank_id = ANY(%s))",
            scope_of=_banks_of, scope_first=self.scope_banks, extra={"upload_id": record.pk},
            references=(PAYMENT_LOAN,), rows_hint=rows_hint, locked=locked,
            vouched=(PAYMENT_LOAN,) if locked is not None else ())
        _batch_audit(actor, record, created, updated)
        return created, updated

    @transaction.atomic
    def store(self, targets, actor, record):
        existing = {}
        loan_ids = sorted({t["loan_id"] for t in targets})
        for i in range(0, len(loan_ids), 5000):
            for v in InterestPayment.objects.filter(loan_id__in=loan_ids[i:i + 5000]).values(
                    "loan_id", "accrual_start", *self.FIELDS):
                existing[(v.pop("loan_id"), v.pop("accrual_start"))] = v
        created, updated = uploads.upsert(InterestPayment, targets, ("loan_id", "accrual_start"), self.FIELDS,
                                          existing, actor, record, extra={"upload_id": record.pk})
        _batch_audit(actor, record, created, updated)
        return created, updated


class NplImporter(LedgerImporter):
    name = "npl"
    key = ("bank_code", "loan_no")

    def schema(self) -> Schema:
        return Schema("npl", (
            self._bank_column(), LOAN_NO,
            Column("npl_date", "不良认定日期", parser=parse_date(), example="2020-09-30",
                   help=_("认定为不良贷款的日期，须晚于放款日期")),
            Column("outstanding_principal", "不良本金（元）", parser=_money(min=0, min_exclusive=True),
                   aliases=("不良本金",), example="800000.00", help=_("认定不良时的未还本金，不超过贷款金额")),
            Column("recovered", "已回收金额（元）", parser=_money(min=0), aliases=("已回收金额",), example="50000.00",
                   help=_("已回收的金额，不超过不良本金")),
        ))

    def row_checks(self, row):
        if row["recovered"] is not None and row["outstanding_principal"] is not None and \
                row["recovered"] > row["outstanding_principal"]:
            yield ("recovered", _("已回收金额不能超过不良本金"))

    def check_chunk(self, rows):
        errors = []
        for row in rows:
            errors.extend(self._bank_errors(row))
        bad = {e.row for e in errors} | {r["_row"] for r in rows if r["bank_code"] is None or r["loan_no"] is None}
        keys = [(self.banks[r["bank_code"]], r["loan_no"]) for r in rows if r["_row"] not in bad]
        self.loans = getattr(self, "loans", {})
        for bank_id in {b for b, _ in keys}:
            numbers = [n for b, n in keys if b == bank_id]
            for i in range(0, len(numbers), 5000):
                for pk, no, principal, start in Loan.objects.filter(
                        bank_id=bank_id, loan_no__in=numbers[i:i + 5000]).values_list(
                        "id", "loan_no", "principal_fen", "start_date"):
                    self.loans[(bank_id, no)] = (pk, principal, start)
        for row in rows:
            if row["_row"] in bad:
                continue
            loan = self.loans.get((self.banks[row["bank_code"]], row["loan_no"]))
            if loan is None:
                errors.append(RowError.of(row["_row"], "loan_no", row["loan_no"],
                                       gettext_lazy("资金池中没有贷款合同编号为 %(loan_no)s 的本行贷款"),
                                       loan_no=row["loan_no"]))
            elif row["outstanding_principal"] is not None and yuan_to_fen(row["outstanding_principal"]) > loan[1]:
                errors.append(RowError.of(row["_row"], "outstanding_principal",
                                       str(row["outstanding_principal"]), gettext_lazy("不良本金不能超过贷款金额")))
            elif row["npl_date"] is not None and row["npl_date"] <= loan[2]:
                errors.append(RowError.of(row["_row"], "npl_date", str(row["npl_date"]),
                                       gettext_lazy("不良认定日期必须晚于放款日期")))
        return errors

    def build(self, rows):
        for r in rows:
            yield {"loan_id": self.loans[(self.banks[r["bank_code"]], r["loan_no"])][0], "npl_date": r["npl_date"],
                   "outstanding_principal_fen": yuan_to_fen(r["outstanding_principal"]),
                   "recovered_fen": yuan_to_fen(r["recovered"])}

    FIELDS = ("npl_date", "outstanding_principal_fen", "recovered_fen")

    @transaction.atomic
    def store(self, targets, actor, record):
        ids = [t["loan_id"] for t in targets]
        existing = {}
        for i in range(0, len(ids), 5000):
            for v in NonPerformingLoan.objects.filter(loan_id__in=ids[i:i + 5000]).values("id", "loan_id",
                                                                                          *self.FIELDS):
                existing[(v.pop("loan_id"),)] = v
        created, updated = uploads.upsert(NonPerformingLoan, targets, ("loan_id",), self.FIELDS, existing, actor,
                                          record, extra={"upload_id": record.pk})
        _batch_audit(actor, record, created, updated)
        return created, updated


class BankImporter(uploads.Importer):
    """The partner-bank list (bureau only)."""

    name = "banks"
    key = ("bank_code",)

    def __init__(self, actor):
        self.actor = actor

    def same_file_scope(self, model):
        return model.objects.filter(kind=self.name)

    def schema(self) -> Schema:
        return Schema("banks", (
            Column("bank_code", "银行机构代码", parser=parse_text(32), example=_("示例银行-SZ"),
                   help=_("银行的机构代码，在名单中唯一；已有的代码更新该银行")),
            Column("name", "银行名称", parser=parse_text(100), example=_("示例银行深圳分行"), help=_("银行名称")),
            Column("signed_date", "签约日期", required=False, parser=parse_date(), example="2020-02-10",
                   help=_("签订资金池协议的日期")),
            Column("onboarded_date", "入库日期", required=False, parser=parse_date(), example="2020-02-20",
                   help=_("接入系统的日期，不早于签约日期")),
        ))

    def row_checks(self, row):
        # A signed date that did not parse is None here: its own error stands, this one is left out.
        if row["onboarded_date"] and not row["signed_date"]:
            yield ("signed_date", _("已入库的银行必须有签约日期"))
        elif row["onboarded_date"] and row["onboarded_date"] < row["signed_date"]:
            yield ("onboarded_date", _("入库日期不能早于签约日期"))

    def build(self, rows):
        for r in rows:
            yield {"code": r["bank_code"], "name": r["name"], "signed_date": r["signed_date"],
                   "onboarded_date": r["onboarded_date"]}

    @transaction.atomic
    def store(self, targets, actor, record):
        created, updated = registry_services.store_banks(targets, actor, record)
        _batch_audit(actor, record, created, updated)
        return created, updated


_A_DAY = dt.date(2020, 1, 1)


def _banks_of(frame: pl.DataFrame) -> list[int]:
    return frame["bank_id"].unique().to_list()


def _loan_ids(bank_ids: list[int]) -> pl.DataFrame:
    """(bank_id, loan_no, loan_id) of every stored loan of these banks, in one read."""
    return read_query(f"SELECT bank_id, loan_no, id FROM {Loan._meta.db_table} WHERE bank_id = ANY(%s)", [bank_ids],
                      {"bank_id": pl.Int64, "loan_no": pl.String, "loan_id": pl.Int64})


IMPORTERS = {"loans": LoanImporter, "payments": PaymentImporter, "npl": NplImporter, "banks": BankImporter}


def _batch_audit(actor, record, created, updated):
    if created or updated:
        audit.record(actor, "import", record, after={"kind": record.kind, "file": record.file_name,
                                                     "digest": record.digest, "created": created,
                                                     "updated": updated},
                     note=stored(_("新增行按文件入库，文件保存在上传记录中")))


def start_upload(actor, kind: str, upload, *, idempotency_key: str = "", inline_limit: int | None = None):
    """Receive a ledger file from a bank's staff (its own rows only) or the bureau; small files are
    processed at once, large ones as a background job. An idempotency key already used by the same
    uploader returns the earlier upload unchanged."""
    from django.conf import settings

    from huiqi.core import jobs
    from huiqi.core.errors import PermissionDenied

    if kind not in IMPORTERS:
        raise ValidationFailed("ledger.kind", _("未知的文件类型 %(kind)s"), field="kind", kind=kind)
    role = getattr(actor, "role", None)
    if kind == "banks" and role not in (Role.BUREAU, Role.ADMIN):
        raise PermissionDenied("ledger.banks", _("只有局方可以上传合作银行名单"))
    if kind != "banks" and role not in (Role.BANK, Role.BUREAU, Role.ADMIN):
        raise PermissionDenied("ledger.upload", _("无权报送银行数据"))
    if idempotency_key:
        earlier = LedgerUpload.objects.filter(idempotency_key=idempotency_key, uploaded_by=actor, kind=kind).first()
        if earlier is not None:
            return earlier
    record = uploads.save_upload(LedgerUpload, IMPORTERS[kind], upload, actor, kind=kind,
                                 bank_id=actor.bank_id if role == Role.BANK else None,
                                 idempotency_key=idempotency_key)
    limit = settings.HUIQI_INLINE_IMPORT_BYTES if inline_limit is None else inline_limit
    if uploads.runs_inline(record, limit):
        return process(record, actor)
    record.job = jobs.enqueue("lending.upload", {"upload_id": record.pk}, user=actor,
                              title=stored(_("%(kind)s：%(file)s"), kind=LedgerUpload.Kind(record.kind).label,
                                           file=record.file_name))
    record.save(update_fields=["job"])
    return record


def import_path(actor, kind: str, path, progress=None):
    """Headless import (``huiqi import loans|payments|npl|banks FILE``) through the same path."""
    record = uploads.save_path(LedgerUpload, IMPORTERS[kind], path, actor, kind=kind)
    return process(record, actor, progress)


def process(record, actor, progress=None):
    """``uploads.process`` with this kind's importer (inline, headless or as a job). Once loans or
    payments are stored, the ledger snapshot of the new version is built in the background
    (``lending.snapshot``), so that the bureau's next simulation finds it ready."""
    from huiqi.core import jobs

    from . import snapshot

    record = uploads.process(IMPORTERS[record.kind](actor), record, actor, progress)
    if record.status == LedgerUpload.Status.STORED and record.kind in ("loans", "payments") and snapshot.enabled():
        transaction.on_commit(lambda: jobs.enqueue("lending.snapshot", {}, user=actor,
                                                   title=stored(_("台账快照"))))
    return record

