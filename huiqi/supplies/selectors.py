"""Every read of the producers directory: the directory scoped to the reader, a producer's status on a day,
and the question other programs ask — which enterprises were active producers on a given day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet

from . import rules
from .models import Producer, Product, Suspension
from .permissions import scope_producers


def products(active_only: bool = True) -> QuerySet[Product]:
    """The catalogue (防疫物资目录), in its order."""
    qs = Product.objects.all()
    return qs.filter(active=True) if active_only else qs


def producers_for(user) -> QuerySet[Producer]:
    """The directory as the user may read it (see ``permissions.scope_producers``)."""
    return scope_producers(user, Producer.objects.select_related("enterprise", "enterprise__district"))


def active_on(day: dt.date, qs: QuerySet[Producer] | None = None) -> QuerySet[Producer]:
    """Producers active on ``day``: listed (``active_from`` ≤ day ≤ ``active_to``) and not suspended."""
    qs = Producer.objects.all() if qs is None else qs
    suspended = Suspension.objects.filter(producer=OuterRef("pk"), start__lte=day).filter(
        Q(end__isnull=True) | Q(end__gte=day))
    return qs.filter(Q(active_to__isnull=True) | Q(active_to__gte=day), active_from__lte=day).exclude(
        Exists(suspended))


def with_status_on(day: dt.date, status: str, qs: QuerySet[Producer]) -> QuerySet[Producer]:
    """``qs`` narrowed to the producers whose status on ``day`` is ``status`` (``rules.STATUSES``)."""
    suspended = Exists(Suspension.objects.filter(producer=OuterRef("pk"), start__lte=day).filter(
        Q(end__isnull=True) | Q(end__gte=day)))
    listed = Q(active_from__lte=day) & (Q(active_to__isnull=True) | Q(active_to__gte=day))
    if status == "not_yet":
        return qs.filter(active_from__gt=day)
    if status == "removed":
        return qs.filter(active_to__lt=day)
    if status == "suspended":
        return qs.filter(listed).filter(suspended)
    if status == "active":
        return qs.filter(listed).exclude(suspended)
    return qs.none()


def active_producers(usccs: Iterable[str], day: dt.date) -> set[str]:
    """Of ``usccs``, those that were active producers in the directory on ``day``."""
    usccs = list(usccs)
    found: set[str] = set()
    for start in range(0, len(usccs), 5000):
        found.update(active_on(day).filter(uscc__in=usccs[start:start + 5000]).values_list("uscc", flat=True))
    return found


def is_active_producer(uscc: str, day: dt.date | None) -> bool:
    """Whether ``uscc`` was an active producer in the directory on ``day`` (False for no day)."""
    return day is not None and active_on(day).filter(uscc=uscc).exists()


def status_of(producer: Producer, day: dt.date) -> str:
    """The producer's status on ``day`` (``rules.STATUSES``)."""
    return rules.status_on(producer.active_from, producer.active_to,
                           [(s.start, s.end) for s in producer.suspensions.all()], day)


def producer_of(uscc: str) -> Producer | None:
    return Producer.objects.filter(uscc=uscc).first()


# --- the directory's pages, exports and API ----------------------------------------------------------

def directory(user, *, on: dt.date, status: str = "", district: str = "", product: str = "",
              converted: bool | None = None, q: str = "") -> QuerySet[Producer]:
    """The directory as the user may read it, narrowed by the list's filters: status on ``on``
    (``rules.STATUSES``; blank for any), the enterprise's district code, a product code it makes, the
    converted-production flag, and a name or USCC fragment. Ordered by USCC; each row's suspensions and
    product lines are read with it."""
    qs = producers_for(user)
    if status in rules.STATUSES:
        qs = with_status_on(on, status, qs)
    if district:
        qs = qs.filter(enterprise__district_id=district)
    if product:
        qs = qs.filter(products__product__code=product)
    if converted is not None:
        qs = qs.filter(converted=converted)
    if q:
        qs = qs.filter(Q(uscc__icontains=q.upper()) | Q(enterprise__name__icontains=q))
    return qs.order_by("uscc").prefetch_related("suspensions", "products__product")


def producer_for(user, pk) -> Producer:
    """One producer the user may read (``Producer.DoesNotExist`` for any other)."""
    return producers_for(user).prefetch_related("suspensions", "products__product").get(pk=pk)


def uploads_for(user):
    """The directory files the user may read: all of them for the city's readers, none for anyone else."""
    from .models import DirectoryUpload

    qs = DirectoryUpload.objects.select_related("uploaded_by", "job")
    return qs if user.has_perm("supplies.view_files") else qs.none()
