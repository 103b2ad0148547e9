"""The actions on one request, by name, shared by the page and the API: the submitted fields in, the
service of the action called. Unknown actions and records outside the reader's scope are a 404."""

from __future__ import annotations

from django.http import Http404

from huiqi.core.errors import ValidationFailed
from huiqi.registry.models import Agency

from . import selectors, services
from .models import Category

NAMES = ("accept", "start", "ask_enterprise", "reply", "answer", "close", "reopen", "send_back", "transfer", "note",
         "supervise", "extend", "decide_extension", "recategorise", "link")


def run(user, req, action: str, post, files) -> None:
    """Perform ``action`` on ``req`` for ``user`` with the submitted fields (``note``, ``rating``, ``agency``,
    ``days``, ``approve``, ``extension``, ``category``, ``problem``, ``title``) and files."""
    note = post.get("note", "")
    if action == "accept":
        services.accept(user, req)
    elif action == "start":
        services.start(user, req, note=note)
    elif action == "ask_enterprise":
        services.ask_enterprise(user, req, note)
    elif action == "reply":
        services.reply(user, req, note, attachments=files.getlist("attachments"))
    elif action == "answer":
        services.answer(user, req, note)
    elif action == "close":
        services.close(user, req, post.get("rating"), note)
    elif action == "reopen":
        services.reopen(user, req, note)
    elif action == "send_back":
        services.send_back(user, req, note)
    elif action == "transfer":
        agency = Agency.objects.filter(code=post.get("agency", "")).first()
        if agency is None:
            raise ValidationFailed("request.agency", "请选择转办部门", "choose the department", field="agency")
        services.transfer(user, req, agency, note)
    elif action == "note":
        services.add_note(user, req, note, internal=post.get("public") != "1")
    elif action == "supervise":
        services.supervise(user, req, note)
    elif action == "extend":
        services.request_extension(user, req, post.get("days"), note)
    elif action == "decide_extension":
        ext = req.extensions.filter(pk=post.get("extension") or 0).first()
        if ext is None:
            raise Http404
        services.decide_extension(user, ext, post.get("approve") == "1", note)
    elif action == "recategorise":
        cat = Category.objects.filter(code=post.get("category", "")).first()
        if cat is None:
            raise ValidationFailed("request.category", "请选择类别", "choose a category", field="category")
        services.change_category(user, req, cat, note)
    elif action == "link":
        problem_id = post.get("problem")
        if problem_id:
            problem = selectors.problems_for(user).filter(pk=problem_id).first()
            if problem is None:
                raise Http404
            services.link_request(user, problem, req)
        else:
            services.create_common_problem(user, post.get("title") or req.title, req.category, [req])
    else:
        raise Http404
