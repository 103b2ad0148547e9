"""The registry extract upload (企业名录): its schema, its checks, and how a clean file is stored.

The upload's life (whole-file accept or refuse, error report, same file twice) is ``core.uploads``;
here: the columns, and a write that is one transaction, set-based on PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huiqi.core import audit, uploads
from huiqi.core.errors import ValidationFailed
from huiqi.core.i18n import localized, stored
from huiqi.core.identifiers import uscc_entity_kind, validate_uscc
from huiqi.core.models import AuditEvent
from huiqi.core.money import wan_to_fen
from huiqi.core.tabular import (CellError, Column, RowError, Schema, parse_choice, parse_date, parse_decimal, parse_int,
                                parse_text)

from . import rules
from .models import DishonestDebtorListing, District, Enterprise, Industry, RegistryImport

KIND_CHOICES = {
    "enterprise": "enterprise", "企业": "enterprise",
    "individual_business": "individual_business", "个体工商户": "individual_business", "个体": "individual_business",
}


def _uscc_cell(value: str) -> str:
    try:
        return validate_uscc(value)
    except ValidationFailed as exc:
        raise CellError.of(exc) from None


def _district_cell():
    names = {}
    for d in District.objects.all():
        names[d.code.upper()] = d.code
        names[d.name] = d.code

    def parse(value: str) -> str:
        code = names.get(value.strip().upper()) or names.get(value.strip())
        if code is None:
            raise CellError(_("未知的区代码 %(value_text)s（应为 440303–440311、DP 或 SS）"), value_text=value)
        return code

    return parse


def _industry_cell():
    known = set(Industry.objects.exclude(level="section").values_list("code", flat=True))

    def parse(value: str) -> str:
        code = value.strip().upper()
        try:
            rules.industry_group(code)
        except ValidationFailed as exc:
            raise CellError.of(exc) from None
        if code not in known:
            # A finer code (C3911) is filed under its division, or the group the standard splits.
            for candidate in (code[:4], code[:3]):
                if candidate in known:
                    return candidate
            raise CellError(_("未知的行业代码 %(code_text)s"), code_text=value)
        return code

    return parse


def registry_schema() -> Schema:
    """The columns of the registry extract, English key and Chinese header each."""
    this_year = timezone.localdate().year
    return Schema("registry", (
        Column("uscc", "统一社会信用代码", parser=_uscc_cell, example="91440300AY4CL12T24",
               help=_("18 位统一社会信用代码：91 开头为企业，92 开头为个体工商户")),
        Column("name", "企业名称", parser=parse_text(200), example=_("深圳市示例科技有限公司"),
               help=_("登记的企业或个体工商户名称")),
        Column("kind", "主体类型", parser=parse_choice(KIND_CHOICES, dict(Enterprise.Kind.choices)),
               example=Enterprise.Kind.ENTERPRISE.label, help=_("须与统一社会信用代码的前两位相符")),
        Column("district", "所属区", parser=_district_cell(), example="440305", codes=_district_codes,
               help=_("所属区的代码")),
        Column("industry", "行业代码", parser=_industry_cell(), example="I65", codes=_industry_codes,
               help=_("国民经济行业分类（GB/T 4754-2017）大类或更细的代码，如 C39；G59、K70 填到中类，如 G591")),
        Column("employees", "从业人员（人）", required=False, parser=parse_int(min=0), aliases=("从业人员",),
               example="120", help=_("期末从业人员数，用于划分企业规模")),
        Column("revenue", "营业收入（万元）", required=False, parser=parse_decimal(places=6, min=0),
               aliases=("营业收入",), example="5000", help=_("全年营业收入，单位万元")),
        Column("assets", "资产总额（万元）", required=False, parser=parse_decimal(places=6, min=0),
               aliases=("资产总额",), example="3000", help=_("期末资产总额，单位万元")),
        Column("figures_year", "数据年度", parser=parse_int(min=2000, max=this_year), example="2019",
               help=_("以上数据所属的年度")),
    ))


def _district_codes() -> list[tuple[str, str]]:
    return [(d.code, localized(d)) for d in District.objects.order_by("order", "code")]


def _industry_codes() -> list[tuple[str, str]]:
    return [(i.code, localized(i)) for i in Industry.objects.exclude(level="section").order_by("code")]


def _row_checks(row: dict):
    if row["uscc"] is None or row["kind"] is None:  # blank or unreadable: its own error says so
        return
    kind = uscc_entity_kind(row["uscc"])
    if kind != row["kind"]:
        yield ("kind",
               _("主体类型与统一社会信用代码前两位 %(uscc_part)s 不符（企业为 91，个体工商户为 92）"), {"uscc_part": row["uscc"][:2]})


# What an import stores for each enterprise, in this order after the USCC.
FIELDS = ("name", "kind", "district_id", "industry_id", "employees", "revenue_fen", "assets_fen", "figures_year",
          "size_class", "size_missing", "size_year")


class RegistryImporter(uploads.Importer):
    """The registry extract: one row per enterprise, keyed by USCC; stored values are
    ``(uscc, *FIELDS)`` tuples with the size class computed by the standard of each row's year."""

    name = "registry"
    key = ("uscc",)

    def __init__(self):
        from .services import size_standard

        self.industries = {i.code: i for i in Industry.objects.all()}
        self.standards: dict[int, dict] = {}
        self._standard = size_standard

    def schema(self) -> Schema:
        return registry_schema()

    def same_file_scope(self, model):
        return model.objects.filter(kind=RegistryImport.Kind.REGISTRY)

    def row_checks(self, row: dict):
        return _row_checks(row)

    def store(self, targets, actor, record):
        return _store(targets, actor, record)

    def build(self, rows):
        from .services import classify

        for row in rows:
            year = row["figures_year"]
            standard = self.standards.get(year)
            if standard is None:
                standard = self.standards[year] = self._standard(year)
            revenue = wan_to_fen(row["revenue"]) if row["revenue"] is not None else None
            assets = wan_to_fen(row["assets"]) if row["assets"] is not None else None
            size = classify(self.industries[row["industry"]], row["employees"], revenue, assets, year, standard,
                            explain=False)
            yield (row["uscc"], row["name"], row["kind"], row["district"], row["industry"], row["employees"],
                   revenue, assets, year, size.size_class, ",".join(size.missing), year)


@transaction.atomic
def _store(targets: list[tuple], actor, record) -> tuple[int, int]:
    """Create new enterprises and update changed ones (each update audited before/after).

    Returns (created, updated); the rest of ``targets`` matched the registry already."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        created, changed = _store_postgresql(targets, now)
    else:
        created, changed = _store_rows(targets, now)
    if changed:
        user = actor if getattr(actor, "is_authenticated", False) else None
        label = audit.actor_label(actor)
        AuditEvent.objects.bulk_create([
            AuditEvent(actor=user, actor_label=label, action="update", model="registry.Enterprise",
                       object_id=str(pk), object_repr=f"{new['name']}（{code}）",
                       before={k: old[k] for k in FIELDS if old[k] != new[k]},
                       after={k: new[k] for k in FIELDS if old[k] != new[k]},
                       note=stored(_("名录导入 #%(pk)s"), pk=record.pk), at=now)
            for pk, code, old, new in changed
        ], batch_size=2000)
    moved = [code for _pk, code, old, new in changed
             if old["district_id"] != new["district_id"] or old["industry_id"] != new["industry_id"]]
    if moved:
        from .services import enterprises_regrouped

        enterprises_regrouped.send(sender=Enterprise, usccs=moved)
    from .services import announce_facts_changed

    announce_facts_changed(actor, [code for _pk, code, old, new in changed
                                   if old["size_class"] != new["size_class"]])
    if created or changed:
        audit.record(actor, "import", record, after={
            "file": record.file_name, "digest": record.digest, "created": created, "updated": len(changed),
        }, note=stored(_("新增企业按文件逐行入库，文件保存在导入记录中")))
    return created, len(changed)


def _store_rows(targets, now):
    """The embedded database: compare with the stored rows in batches, then bulk create and update."""
    created = 0
    changed = []
    for i in range(0, len(targets), 5000):
        batch = targets[i:i + 5000]
        existing = {
            v.pop("uscc"): v
            for v in Enterprise.objects.filter(uscc__in=[t[0] for t in batch]).values("id", "uscc", *FIELDS)
        }
        new_objs, upd_objs = [], []
        for t in batch:
            values = dict(zip(FIELDS, t[1:]))
            old = existing.get(t[0])
            if old is None:
                new_objs.append(Enterprise(uscc=t[0], created_at=now, updated_at=now, **values))
            elif any(old[f] != values[f] for f in FIELDS):
                pk = old.pop("id")
                changed.append((pk, t[0], old, values))
                upd_objs.append(Enterprise(id=pk, uscc=t[0], updated_at=now, **values))
        Enterprise.objects.bulk_create(new_objs, batch_size=2000)
        if upd_objs:
            Enterprise.objects.bulk_update(upd_objs, [*FIELDS, "updated_at"], batch_size=500)
        created += len(new_objs)
    return created, changed


_COLUMNS_SQL = ", ".join(FIELDS)
_TMP = "huiqi_registry_import"


def _store_postgresql(targets, now):
    """PostgreSQL: COPY the file's values into a temporary table, then three set-based statements:
    read the rows that differ (for the audit), update them, insert the new ones."""
    with connection.cursor() as cur:
        cur.execute(f"CREATE TEMPORARY TABLE {_TMP} (LIKE registry_enterprise INCLUDING DEFAULTS) ON COMMIT DROP")
        cur.execute(f"ALTER TABLE {_TMP} DROP COLUMN id, DROP COLUMN is_key_enterprise, "
                    "DROP COLUMN created_at, DROP COLUMN updated_at")
        with cur.cursor.copy(f"COPY {_TMP} (uscc, {_COLUMNS_SQL}) FROM STDIN") as copy:
            for t in targets:
                copy.write_row(t)
        cur.execute(f"ANALYZE {_TMP}")
        differs = " OR ".join(f"e.{f} IS DISTINCT FROM t.{f}" for f in FIELDS)
        cur.execute(
            f"SELECT e.id, e.uscc, {', '.join('e.' + f for f in FIELDS)}, {', '.join('t.' + f for f in FIELDS)} "
            f"FROM registry_enterprise e JOIN {_TMP} t ON t.uscc = e.uscc WHERE {differs}"
        )
        n = len(FIELDS)
        changed = [(r[0], r[1], dict(zip(FIELDS, r[2:2 + n])), dict(zip(FIELDS, r[2 + n:]))) for r in cur.fetchall()]
        if changed:
            cur.execute(
                f"UPDATE registry_enterprise e SET {', '.join(f'{f} = t.{f}' for f in FIELDS)}, updated_at = %s "
                f"FROM {_TMP} t WHERE t.uscc = e.uscc AND ({differs})", [now],
            )
        cur.execute(
            f"INSERT INTO registry_enterprise (uscc, {_COLUMNS_SQL}, is_key_enterprise, created_at, updated_at) "
            f"SELECT t.uscc, {', '.join('t.' + f for f in FIELDS)}, false, %s, %s FROM {_TMP} t "
            f"WHERE NOT EXISTS (SELECT 1 FROM registry_enterprise e WHERE e.uscc = t.uscc)", [now, now],
        )
        created = cur.rowcount
        cur.execute(f"DROP TABLE {_TMP}")
    return created, changed




# --- ownership (所有制性质) and the dishonest-debtor list (失信被执行人) -----------------------------------------

OWNERSHIP_CHOICES = {
    "private": "private", "民营": "private", "民营企业": "private",
    "state_controlled": "state_controlled", "国有控股": "state_controlled", "国有": "state_controlled",
    "unknown": "unknown", "未知": "unknown",
}


def ownership_schema() -> Schema:
    """统一社会信用代码, 所有制性质: one row per enterprise of the registry."""
    return Schema("registry-ownership", (
        Column("uscc", "统一社会信用代码", parser=_uscc_cell, example="91440300AY4CL12T24",
               help=_("名录中已有企业的统一社会信用代码")),
        Column("ownership", "所有制性质", parser=parse_choice(OWNERSHIP_CHOICES, dict(Enterprise.Ownership.choices)),
               example=Enterprise.Ownership.PRIVATE.label, help=_("民营、国有控股或未知")),
    ))


def dishonest_schema() -> Schema:
    """统一社会信用代码, 列入日期, 移出日期, 来源: one period on the list per row."""
    return Schema("registry-dishonest", (
        Column("uscc", "统一社会信用代码", parser=_uscc_cell, example="91440300AY4CL12T24",
               help=_("被列入失信被执行人名单的企业的统一社会信用代码")),
        Column("listed_on", "列入日期", parser=parse_date(), example="2019-11-01", help=_("列入名单的日期")),
        Column("removed_on", "移出日期", required=False, parser=parse_date(), example="",
               help=_("移出名单的日期，不早于列入日期；仍在名单上的不填")),
        Column("source", "来源", required=False, parser=parse_text(100), example=_("最高人民法院失信被执行人名单"),
               help=_("名单的发布机关或文号")),
    ))


class OwnershipImporter(uploads.Importer):
    """所有制性质 of enterprises already in the registry; each change through ``services.store_ownership``
    (audited before and after), all rows or none, and the changed enterprises announced once."""

    name = "registry-ownership"
    key = ("uscc",)

    def schema(self) -> Schema:
        return ownership_schema()

    def same_file_scope(self, model):
        return model.objects.filter(kind=RegistryImport.Kind.OWNERSHIP)

    def check_chunk(self, rows):
        codes = {r["uscc"] for r in rows if r.get("uscc")}
        known = set(Enterprise.objects.filter(uscc__in=codes).values_list("uscc", flat=True))
        return [RowError.of(r["_row"], "uscc", r["uscc"], _("统一社会信用代码 %(code_text)s 不在企业名录中"),
                            code_text=r["uscc"])
                for r in rows if r.get("uscc") and r["uscc"] not in known]

    def build(self, rows):
        for r in rows:
            yield (r["uscc"], r["ownership"])

    @transaction.atomic
    def store(self, targets, actor, record):
        from .services import announce_facts_changed, store_ownership

        enterprises = Enterprise.objects.select_for_update().in_bulk([u for u, _o in targets], field_name="uscc")
        changed = [(enterprises[u], o) for u, o in targets if enterprises[u].ownership != o]
        for enterprise, ownership in changed:
            store_ownership(actor, enterprise, ownership)
        announce_facts_changed(actor, [enterprise.uscc for enterprise, _o in changed])
        audit.record(actor, "import", record, after={"kind": record.kind, "file": record.file_name,
                                                     "digest": record.digest, "created": 0, "updated": len(changed)})
        return 0, len(changed)


class DishonestImporter(uploads.Importer):
    """失信被执行人 listings: (USCC, listed on) names a period; a repeat replaces its removal date and source
    (audited before and after). The pre-checks read the list as of their own day."""

    name = "registry-dishonest"
    key = ("uscc", "listed_on")

    def schema(self) -> Schema:
        return dishonest_schema()

    def same_file_scope(self, model):
        return model.objects.filter(kind=RegistryImport.Kind.DISHONEST)

    def row_checks(self, row: dict):
        if row["listed_on"] is not None and row["removed_on"] is not None and row["removed_on"] < row["listed_on"]:
            yield ("removed_on", _("移出日期 %(removed)s 早于列入日期 %(listed)s"),
                   {"removed": row["removed_on"], "listed": row["listed_on"]})

    def build(self, rows):
        for r in rows:
            yield {"uscc": r["uscc"], "listed_on": r["listed_on"], "removed_on": r["removed_on"],
                   "source": r["source"] or ""}

    @transaction.atomic
    def store(self, targets, actor, record):
        existing = {}
        for v in DishonestDebtorListing.objects.filter(uscc__in={t["uscc"] for t in targets}).values(
                "id", "uscc", "listed_on", "removed_on", "source"):
            existing[(v.pop("uscc"), v.pop("listed_on"))] = v
        created, updated = uploads.upsert(DishonestDebtorListing, targets, self.key, ("removed_on", "source"),
                                          existing, actor, record)
        audit.record(actor, "import", record, after={"kind": record.kind, "file": record.file_name,
                                                     "digest": record.digest, "created": created,
                                                     "updated": updated})
        return created, updated


IMPORTERS = {RegistryImport.Kind.REGISTRY: RegistryImporter, RegistryImport.Kind.OWNERSHIP: OwnershipImporter,
             RegistryImport.Kind.DISHONEST: DishonestImporter}
SCHEMAS = {RegistryImport.Kind.REGISTRY: registry_schema, RegistryImport.Kind.OWNERSHIP: ownership_schema,
           RegistryImport.Kind.DISHONEST: dishonest_schema}


def process(record: RegistryImport, actor, progress=None) -> RegistryImport:
    """Validate and store (or refuse) an uploaded registry file of its kind; see ``core.uploads.process``."""
    return uploads.process(IMPORTERS[record.kind](), record, actor, progress)


def save_upload(upload, user, kind: str = RegistryImport.Kind.REGISTRY) -> RegistryImport:
    return uploads.save_upload(RegistryImport, IMPORTERS[kind], upload, user, kind=kind)


def save_path(path: Path, user, kind: str = RegistryImport.Kind.REGISTRY) -> RegistryImport:
    return uploads.save_path(RegistryImport, IMPORTERS[kind], path, user, kind=kind)


read_errors = uploads.read_errors
