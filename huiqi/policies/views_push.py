"""The pages of precise push: an enterprise's inbox (a message read is opened) and its push settings
(consents, saved filters, unsubscriptions); the link of an SMS or e-mail; the bureau's message log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from huiqi.core import clock, filters
from huiqi.core.errors import DomainError
from huiqi.core.forms import add_domain_error
from huiqi.core.pagination import paginate
from huiqi.core.permissions import require_page

from . import push, rules, selectors
from .filters import PushMessageFilter
from .forms import ConsentForm, FilterForm, UnsubscribeForm
from .models import Channel, PushMessage


def _current(request):
    enterprises = list(selectors.own_enterprises(request.user))
    pick = request.GET.get("uscc") or request.POST.get("uscc")
    return enterprises, next((e for e in enterprises if e.uscc == pick), enterprises[0] if enterprises else None)


@login_required
def inbox(request):
    """The enterprise's push messages, newest first; unread ones marked."""
    require_page(request, "policies.push_own")
    enterprises, current = _current(request)
    page, query = paginate(request, selectors.inbox_of(request.user, current) if current else PushMessage.objects.none())
    return render(request, "policies/inbox.html", {"enterprises": enterprises, "current": current, "page": page,
                                                   "query": query})


@login_required
def message(request, pk):
    """One inbox message; reading it marks it opened."""
    require_page(request, "policies.push_own")
    found = selectors.own_message(request.user, pk)
    if found is None:
        raise Http404
    push.open_message(request.user, found)
    entries = list(found.entries.select_related("item", "version").order_by("reason", "item__code"))
    for entry in entries:
        entry.missing_fields = [(name, rules.FIELDS[name]) for name in entry.missing if name in rules.FIELDS]
    return render(request, "policies/message.html", {"message": found, "entries": entries,
                                                     "item_url": reverse("policies:index") + "items/"})


def link(request, token):
    """The link an SMS or e-mail carries (no sign-in needed): the message is opened; the page leads to the
    inbox, where the reader signs in."""
    try:
        push.follow_link(token)
    except DomainError:
        raise Http404 from None
    return render(request, "policies/push_link.html", {})


@login_required
def push_settings(request):
    """推送设置: consents per channel (who, when, how), saved filters, unsubscriptions."""
    require_page(request, "policies.push_own")
    enterprises, current = _current(request)
    if current is None:
        return render(request, "policies/push_settings.html", {"enterprises": enterprises, "current": None})
    consent_form, filter_form, unsubscribe_form = ConsentForm(prefix="c"), FilterForm(prefix="f"), UnsubscribeForm(
        prefix="u")
    if request.method == "POST":
        action = request.POST.get("action")
        done = _act(request, current, action, consent_form, filter_form, unsubscribe_form)
        if done is True:
            return redirect(f"{reverse('policies:push_settings')}?uscc={current.uscc}")
        consent_form, filter_form, unsubscribe_form = done
    return render(request, "policies/push_settings.html", {
        "enterprises": enterprises, "current": current, "settings": selectors.push_settings(request.user, current),
        "consent_form": consent_form, "filter_form": filter_form, "unsubscribe_form": unsubscribe_form})


def _act(request, current, action, consent_form, filter_form, unsubscribe_form):
    """One settings action: True when done (redirect), else the forms with their errors."""
    user = request.user
    try:
        if action == "consent":
            consent_form = ConsentForm(request.POST, prefix="c")
            if not consent_form.is_valid():
                return consent_form, filter_form, unsubscribe_form
            try:
                push.give_consent(user, current, consent_form.cleaned_data["channel"],
                                  consent_form.cleaned_data["address"])
            except DomainError as exc:
                add_domain_error(consent_form, exc)
                return consent_form, filter_form, unsubscribe_form
        elif action == "withdraw":
            push.withdraw_consent(user, current, request.POST.get("channel", ""))
        elif action == "filter":
            filter_form = FilterForm(request.POST, prefix="f")
            if not filter_form.is_valid():
                return consent_form, filter_form, unsubscribe_form
            try:
                push.save_filter(user, current, filter_form.cleaned_data["name"], filter_form.facets())
            except DomainError as exc:
                add_domain_error(filter_form, exc)
                return consent_form, filter_form, unsubscribe_form
        elif action in ("filter_on", "filter_off", "filter_delete"):
            saved = selectors.own_filter(user, _int(request.POST.get("filter")))
            if saved is None:
                raise Http404
            if action == "filter_delete":
                push.delete_filter(user, saved)
            else:
                push.set_filter_push(user, saved, action == "filter_on")
        elif action == "unsubscribe":
            unsubscribe_form = UnsubscribeForm(request.POST, prefix="u")
            if not unsubscribe_form.is_valid():
                return consent_form, filter_form, unsubscribe_form
            d = unsubscribe_form.cleaned_data
            try:
                push.unsubscribe(user, current, d["scope"], item_code=d.get("item") or "",
                                 channel=d.get("channel") or "")
            except DomainError as exc:
                add_domain_error(unsubscribe_form, exc)
                return consent_form, filter_form, unsubscribe_form
        elif action == "unsubscribe_item":
            push.unsubscribe(user, current, "item", item_code=request.POST.get("item", ""))
        elif action == "resubscribe":
            found = selectors.own_unsubscription(user, _int(request.POST.get("unsubscription")))
            if found is None:
                raise Http404
            push.resubscribe(user, found)
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.message)
        return True
    messages.success(request, _("已保存。"))
    return True


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


@login_required
def push_log(request):
    """Every push message with its states (the bureau's log), filtered by channel, state, enterprise, item
    and days."""
    require_page(request, "policies.view_push_log")
    if request.method == "POST":
        return _run_now(request)
    qs, typed = filters.apply(PushMessageFilter, request, selectors.message_log(request.user).order_by(
        "-scheduled_at", "-id"))
    page, query = paginate(request, qs)
    return render(request, "policies/push_log.html", {"page": page, "query": query, "f": typed,
                                                      "channels": Channel.choices,
                                                      "states": PushMessage.State.choices,
                                                      "can_run": request.user.has_perm("policies.run_push"),
                                                      "today": clock.today()})


def _run_now(request):
    """The bureau runs a day's push now (a job; the timer runs it daily at the digest time)."""
    import datetime as dt

    require_page(request, "policies.run_push")
    try:
        day = dt.date.fromisoformat(request.POST.get("day", ""))
    except ValueError:
        messages.error(request, _("推送日须为 YYYY-MM-DD 格式的日期"))
        return redirect("policies:push_log")
    try:
        job = push.enqueue_run(request.user, day)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("policies:push_log")
    return redirect("core:job_detail", pk=job.pk)
