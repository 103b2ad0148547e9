"""Every read of the 免申即享 lists, scoped to the asking user: the bureau, auditors and administrators read
every list; an enterprise its own entries on publicised lists; anyone the 公示 (the columns the parameter
``published_columns`` names, natural persons masked)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet, Sum

from django.utils.translation import gettext_lazy as _

from huiqi.core import formats
from huiqi.core.i18n import Message
from huiqi.core.models import AuditEvent

from . import rules, selectors
from .models import AutoEntry, AutoList, ListStatus, Objection
from .parameters import COLUMNS

PUBLICISED = (ListStatus.PUBLICISED, ListStatus.OBJECTIONS_CLOSED, ListStatus.CONFIRMED, ListStatus.PAYMENT_LIST,
              ListStatus.RECONCILED)


def lists_for(user) -> QuerySet[AutoList]:
    """The lists the user may read with their totals of listed entries: city-wide readers only."""
    if not user.has_perm("policies.view_lists"):
        return AutoList.objects.none()
    listed = Q(entries__status=AutoEntry.Status.LISTED)
    return (AutoList.objects.select_related("item", "version", "compiled_by", "reviewed_by", "published_by",
                                            "confirmed_by", "payment_prepared_by", "payment_approved_by",
                                            "reconciled_by", "parent")
            .annotate(listed=Count("entries", filter=listed), listed_fen=Sum("entries__amount_fen", filter=listed))
            .order_by("-list_date", "-id"))


def list_for(user, pk) -> AutoList | None:
    return lists_for(user).filter(pk=pk).first()


def list_totals(auto_list: AutoList) -> dict:
    """How many entries are listed and their Σ amount in fen; how many were removed or declined."""
    out = {"listed": 0, "listed_fen": 0, "removed": 0, "declined": 0}
    for status, n, fen in (auto_list.entries.order_by().values_list("status").annotate(n=Count("id"),
                                                                                       fen=Sum("amount_fen"))):
        if status == AutoEntry.Status.LISTED:
            out["listed"], out["listed_fen"] = n, fen or 0
        else:
            out[status] = n
    return out


def entries_of(auto_list: AutoList, status: str | None = None) -> QuerySet[AutoEntry]:
    qs = auto_list.entries.order_by("beneficiary_id")
    return qs.filter(status=status) if status else qs


def objections_of(auto_list: AutoList) -> QuerySet[Objection]:
    return auto_list.objections.select_related("enterprise", "entry", "decided_by", "supplement").order_by(
        "submitted_at", "id")


def payment_lines(auto_list: AutoList):
    """The payment list's lines (beneficiary id, name, fen): the listed entries with an amount, by id."""
    return (auto_list.entries.filter(status=AutoEntry.Status.LISTED, amount_fen__gt=0).order_by("beneficiary_id")
            .values_list("beneficiary_id", "name", "amount_fen"))


def explained(entry: AutoEntry) -> list[Message]:
    """The explanation kept with an entry, as people read it: the criteria's leaves with their results, the
    subsidy batch's figures, the objections upheld, or the payment it retries."""
    x = entry.explanation or {}
    source = x.get("source")
    if source == "criteria":
        labels = selectors.value_labels()
        return [Message(_("第 %(n)s 版申报条件：%(outcome)s"), n=x.get("version"), outcome=rules.OUTCOMES[x["outcome"]]),
                *(Message(_("%(leaf)s：%(result)s"), leaf=rules.describe_leaf(leaf, labels),
                          result=rules.OUTCOMES[leaf["result"]]) for leaf in x.get("leaves", ()))]
    if source == "subsidy_batch":
        return [Message(_("贴息批次 #%(batch)s（截至 %(cutoff)s）：计入贷款 %(loans)s 笔，计入利息 %(interest)s 元，"
                          "应享贴息 %(entitled)s 元，此前已付 %(before)s 元，本批应付 %(due)s 元，实付 %(payable)s 元"),
                        batch=x["batch"], cutoff=x["cutoff"], loans=formats.count(x["loans_counted"]),
                        interest=formats.yuan(x["interest_counted_fen"]), entitled=formats.yuan(x["entitlement_fen"]),
                        before=formats.yuan(x["paid_before_fen"]), due=formats.yuan(x["due_fen"]),
                        payable=formats.yuan(x["payable_fen"]))]
    if source == "objections":
        return [Message(_("名单 #%(parent)s 的异议 #%(pk)s 成立：%(reason)s，核定 %(amount)s 元"), parent=x["parent"],
                        pk=o["objection"], reason=o["reason"], amount=formats.yuan(o["granted_fen"]))
                for o in x.get("objections", ())]
    if source == "retry":
        return [Message(_("名单 #%(parent)s 支付失败（%(note)s），重新支付"), parent=x["parent"], note=x.get("note") or "—")]
    return []


def list_history(auto_list: AutoList) -> QuerySet[AuditEvent]:
    """The list's audit records, oldest first: its steps, who took them and when."""
    return (AuditEvent.objects.filter(model=AutoList._meta.label, object_id=str(auto_list.pk))
            .order_by("at", "id"))


def children_of(auto_list: AutoList) -> QuerySet[AutoList]:
    """Its supplementary and retry lists."""
    return auto_list.children.order_by("id")


def list_actions(user, auto_list: AutoList) -> list[str]:
    """What the user may do with the list in its state (the services check again)."""
    if not user.has_perm("policies.manage_lists"):
        return []
    s = auto_list.status
    acts = []
    if s == ListStatus.COMPILED and auto_list.compiled_by_id != user.pk:
        acts.append("review")
    if s == ListStatus.REVIEWED:
        acts.append("publish")
    if s == ListStatus.PUBLICISED:
        acts.append("close")
    if s == ListStatus.OBJECTIONS_CLOSED:
        acts.append("confirm")
    if s == ListStatus.CONFIRMED:
        acts.append("prepare_payment")
    if s == ListStatus.PAYMENT_LIST and auto_list.payment_approved_by_id is None \
            and auto_list.payment_prepared_by_id != user.pk:
        acts.append("approve_payment")
    if s == ListStatus.PAYMENT_LIST and auto_list.payment_approved_by_id is not None:
        acts.append("upload_results")
    return acts


# --- the public 公示 and an enterprise's own entries -----------------------------------------------------

def public_lists() -> QuerySet[AutoList]:
    """Every list that has been publicised, newest first."""
    return AutoList.objects.filter(status__in=PUBLICISED, published_on__isnull=False).select_related("item", "version")


def public_columns(auto_list: AutoList) -> list[tuple[str, object]]:
    """The columns of a 公示 as the parameter in force on its publication day names them (code, label)."""
    chosen = selectors.params_on(auto_list.published_on).published_columns
    return [(c, COLUMNS[c]) for c in chosen if c in COLUMNS]


def public_rows(auto_list: AutoList, columns: list[str]):
    """The 公示's rows (the listed entries, by id), each the chosen columns' values; a natural person's name
    and identifier masked. Amounts in fen."""
    for b, name, kind, fen in (auto_list.entries.filter(status=AutoEntry.Status.LISTED).order_by("beneficiary_id")
                               .values_list("beneficiary_id", "name", "beneficiary_kind", "amount_fen")):
        person = kind in rules.NATURAL_PERSONS
        values = {"name": rules.masked_name(name) if person else name,
                  "uscc": AutoEntry.AUDIT_MASK["beneficiary_id"](b),
                  "amount": fen}
        yield [values[c] for c in columns]


def own_entries(user) -> QuerySet[AutoEntry]:
    """The entries of the user's own enterprises on publicised lists, newest list first."""
    if not user.has_perm("policies.own_entries"):
        return AutoEntry.objects.none()
    return (AutoEntry.objects.filter(beneficiary_id__in=selectors.own_enterprises(user).values("uscc"),
                                     auto_list__status__in=PUBLICISED)
            .select_related("auto_list", "auto_list__item", "auto_list__version")
            .order_by("-auto_list__published_on", "-auto_list_id", "beneficiary_id"))


def own_entry(user, pk) -> AutoEntry | None:
    return own_entries(user).filter(pk=pk).first()


def own_objections(user) -> QuerySet[Objection]:
    if not user.has_perm("policies.own_entries"):
        return Objection.objects.none()
    return (Objection.objects.filter(enterprise__in=selectors.own_enterprises(user))
            .select_related("auto_list", "auto_list__item", "enterprise").order_by("-submitted_at", "-id"))


def open_for_objection(day) -> QuerySet[AutoList]:
    """Lists in their objection period on ``day``: where an enterprise not listed may ask to be added."""
    return public_lists().filter(status=ListStatus.PUBLICISED, published_on__lte=day, objections_until__gte=day)


def export_rows(auto_list: AutoList):
    """Every entry of a list for its XLSX/CSV export (machine values: amounts in yuan with two places)."""
    for e in entries_of(auto_list):
        yield [e.beneficiary_id, e.name, e.beneficiary_kind, rules.fen_text(e.amount_fen), e.status,
               e.status_reason, e.payment, e.payment_note]


EXPORT_HEADER = ("beneficiary_id", "name", "kind", "amount", "status", "reason", "payment", "payment_note")
PAYMENT_HEADER = ("beneficiary_id", "name", "amount")
