"""The policy hub's pages: the catalogue (search, facets), an item (解读, FAQ, 办事指南, the reader's own
outcome), 政策找我 for an enterprise, the bureau's criteria editor with live counts, and an item's versions
with the workflow and a readable diff."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from huiqi.core import clock
from huiqi.core.errors import DomainError
from huiqi.core.forms import add_domain_error
from huiqi.core.pagination import paginate
from huiqi.core.permissions import require_page

from . import rules, selectors, services
from .forms import CriteriaEditorForm, ItemForm, criteria_from_rows, rows_from_criteria
from .models import ItemVersion


def _facet_choices(chosen, vocab=None):
    vocab = selectors.tags() if vocab is None else vocab
    return [(facet, label, [(t, t.code in chosen.get(facet, ())) for t in vocab.get(facet, [])])
            for facet, label in (("subject", _("主题")), ("benefit", _("支持方式")), ("mode", _("办理方式")))]


@login_required
def index(request):
    require_page(request, "policies.view")
    day = clock.today()
    text = request.GET.get("q", "").strip()[:100]
    chosen = selectors.chosen_facets(request.GET)
    page, query = paginate(request, selectors.catalogue(day, text, chosen))
    return render(request, "policies/index.html", {
        "page": page, "query": query, "q": text, "facets": _facet_choices(chosen), "day": day,
        "can_edit": request.user.has_perm("policies.edit"),
        "can_match": request.user.has_perm("policies.match_own")})


@login_required
def item(request, code):
    require_page(request, "policies.view")
    day = clock.today()
    version = selectors.item_page_version(request.user, code, day)
    if version is None:
        raise Http404
    own = []
    if request.user.has_perm("policies.match_own"):
        for ent in selectors.own_enterprises(request.user):
            found = selectors.enterprise_facts(ent.uscc, day)
            if found is not None:
                explained = rules.explain(version.criteria, found)
                own.append({"enterprise": ent, "explanation": explained,
                            "missing": [rules.FIELDS[n] for n in explained.missing],
                            "reasons": [(selectors.describe(leaf), negated)
                                        for leaf, negated in rules.why_not(version.criteria, found)]})
    if version.status == "published" and not request.user.has_perm("policies.view_drafts"):
        from . import push

        # The funnel's views: each enterprise the reader acts for, else one anonymous view (staff who
        # check their own items are not counted).
        push.record_view(version.item, [o["enterprise"].pk for o in own], day)
    labels = selectors.value_labels()
    leaves = [rules.describe_leaf(leaf, labels) for leaf in rules.leaves_of(version.criteria)]
    appliable = (version.mode in selectors.APPLIABLE and version.status == "published"
                 and request.user.has_perm("policies.apply"))
    return render(request, "policies/item.html", {
        "version": version, "item": version.item, "leaves": leaves, "own": own, "day": day,
        "appliable": appliable, "can_apply": appliable and rules.is_open(day, version.opens, version.closes),
        "my_applications": selectors.applications_for(request.user).filter(item=version.item) if appliable else (),
        "in_force": version.status == "published",
        "can_edit": request.user.has_perm("policies.edit"),
        "can_see_versions": request.user.has_perm("policies.view_drafts")})


@login_required
def mine(request):
    """政策找我: met first, then those the enterprise may meet with what to supply, then the rest with reasons."""
    require_page(request, "policies.match_own")
    day = clock.today()
    text = request.GET.get("q", "").strip()[:100]
    vocab = selectors.tags()
    chosen = selectors.chosen_facets(request.GET, vocab)
    enterprises = list(selectors.own_enterprises(request.user))
    pick = request.GET.get("uscc")
    current = next((e for e in enterprises if e.uscc == pick), enterprises[0] if enterprises else None)
    found = selectors.for_enterprise(current.uscc, day, text, chosen) if current else None
    return render(request, "policies/mine.html", {
        "enterprises": enterprises, "current": current, "found": found, "q": text,
        "facets": _facet_choices(chosen, vocab), "day": day, "item_url": reverse("policies:index") + "items/"})


@login_required
def versions(request, code):
    require_page(request, "policies.view_drafts")
    all_versions = list(selectors.item_versions(code))
    if not all_versions:
        raise Http404
    if request.method == "POST":
        return _act(request, code, all_versions)
    by_number = {v.number: v for v in all_versions}
    newest = all_versions[0]
    try:
        a = by_number[int(request.GET.get("a", 0))]
        b = by_number[int(request.GET.get("b", 0))]
    except (ValueError, KeyError):
        a, b = (all_versions[1], newest) if len(all_versions) > 1 else (None, None)
    return render(request, "policies/versions.html", {
        "code": code, "versions": all_versions, "newest": newest, "a": a, "b": b,
        "diff": selectors.diff(a, b) if a and b else None,
        "actions": _actions(request.user, newest),
        "cases": [(case, outcome, outcome == case.expected)
                  for case, outcome in services.run_test_cases(newest.item, newest)]})


def _actions(user, version: ItemVersion) -> list[str]:
    acts = []
    if version.status == "draft" and user.has_perm("policies.edit"):
        acts.append("submit")
    if version.status == "review" and user.has_perm("policies.review"):
        if version.author_id != user.pk:
            acts.append("publish")
        acts.append("return")
    if version.status == "published" and user.has_perm("policies.review"):
        acts.append("withdraw")
    return acts


def _act(request, code, all_versions):
    newest = all_versions[0]
    action = request.POST.get("action")
    note = request.POST.get("note", "")
    try:
        if action not in _actions(request.user, newest):
            raise Http404
        if action == "submit":
            services.submit(request.user, newest)
        elif action == "publish":
            services.publish(request.user, newest)
        elif action == "return":
            services.return_to_draft(request.user, newest, note)
        elif action == "withdraw":
            services.withdraw(request.user, newest, note)
        messages.success(request, _("已完成：%(status)s") % {"status": newest.get_status_display()})
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("policies:versions", code=code)


@login_required
def edit(request, code=None):
    """The bureau's editor: the item's texts and its criteria as rows of field, operator and value in groups,
    with the counts of the registry they give; saved as a draft version."""
    require_page(request, "policies.edit")
    day = clock.today()
    latest = selectors.latest_version(code) if code else None
    if code and latest is None:
        raise Http404
    counts = None
    if request.method == "POST":
        form = ItemForm(request.POST, code_fixed=code)
        editor = CriteriaEditorForm(request.POST)
        if editor.is_valid():
            criteria, paths = criteria_from_rows(editor.cleaned_data)
            try:
                rules.validate(criteria, selectors.vocabularies())
            except DomainError as exc:
                editor.add_criteria_errors(exc, paths)
            else:
                counts = selectors.counts(criteria, day)
                if "save" in request.POST and form.is_valid():
                    try:
                        version = services.save_draft(request.user, code or form.cleaned_data["code"],
                                                      {**form.content(), "criteria": criteria})
                    except DomainError as exc:
                        add_domain_error(form, exc)
                    else:
                        messages.success(request, _("已保存为草稿（第 %(n)s 版）。") % {"n": version.number})
                        return redirect("policies:versions", code=version.item.code)
    else:
        form = ItemForm(initial=ItemForm.initial_from(latest), code_fixed=code)
        editor = CriteriaEditorForm(initial=rows_from_criteria(latest.criteria if latest else None))
        if latest is not None:
            counts = selectors.counts(latest.criteria, day)
    template = "policies/_counts.html" if request.headers.get("HX-Request") else "policies/edit.html"
    return render(request, template, {"form": form, "editor": editor, "code": code, "latest": latest,
                                      "counts": counts, "fields": rules.FIELDS, "operators": rules.OPERATORS})


@login_required
def publicity(request):
    """The publicity figures since the campaign's start (the seed's: WeChat articles and views, media
    reports) and every channel's articles."""
    require_page(request, "policies.view_publicity")
    day = clock.today()
    page, query = paginate(request, selectors.articles(day))
    return render(request, "policies/publicity.html", {"figures": selectors.publicity_figures(day), "page": page,
                                                       "query": query})
