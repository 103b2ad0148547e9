"""The actions on one request, by name, shared by the page and the API: the submitted fields in, the
service of the action called. Unknown actions and records outside the reader's scope are a 404."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext_lazy as _

from huiqi.core.errors import ValidationFailed
from huiqi.registry import selectors as registry_selectors

from . import rules, selectors, services
from .models import Category

NAMES = ("accept", "start", "ask_enterprise", "reply", "answer", "close", "reopen", "send_back", "transfer", "note",
         "supervise", "extend", "decide_extension", "recategorise", "link")


def _pk(value) -> int:
    """A record's id as submitted; anything that is not one names no record (0)."""
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else 0


def _text(post, name: str) -> str:
    """A submitted text field (a form's string, or any JSON value of the API) without control characters
    (NUL cannot be stored on PostgreSQL, the others not written into XML)."""
    value = post.get(name)
    if value is None or isinstance(value, (dict, list)):
        return ""
    return rules.clean_text(value if isinstance(value, str) else str(value))


def _yes(value) -> bool:
    """A form's "1" or the API's JSON true."""
    return value is True or str(value).strip().lower() in ("1", "true", "yes", "on")


def run(user, req, action: str, post, files) -> None:
    """Perform ``action`` on ``req`` for ``user`` with the submitted fields (``note``, ``rating``, ``agency``,
    ``days``, ``approve``, ``extension``, ``category``, ``problem``, ``title``) and files."""
    note = _text(post, "note")
    limit = selectors.current_params()["description_max_chars"] * 2
    if len(note) > limit:
        # Said, not cut: a note, reason or reply is never stored shorter than it was written.
        raise ValidationFailed("request.note_long", _("填写的内容不能超过 %(limit)s 个字（现有 %(note_len)s 个字）"),
                               field="note", limit=limit, note_len=len(note))
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
        agency = registry_selectors.agencies().filter(code=_text(post, "agency").strip()).first()
        if agency is None:
            raise ValidationFailed("request.agency", _("请选择转办部门"), field="agency")
        services.transfer(user, req, agency, note)
    elif action == "note":
        services.add_note(user, req, note, internal=not _yes(post.get("public")))
    elif action == "supervise":
        services.supervise(user, req, note)
    elif action == "extend":
        services.request_extension(user, req, post.get("days"), note)
    elif action == "decide_extension":
        ext = req.extensions.filter(pk=_pk(_text(post, "extension"))).first()
        if ext is None:
            raise Http404
        services.decide_extension(user, ext, _yes(post.get("approve")), note)
    elif action == "recategorise":
        cat = Category.objects.filter(code=_text(post, "category").strip()).first()
        if cat is None:
            raise ValidationFailed("request.category", _("请选择类别"), field="category")
        services.change_category(user, req, cat, note)
    elif action == "link":
        if _text(post, "problem").strip():
            problem = selectors.problems_for(user).filter(pk=_pk(_text(post, "problem"))).first()
            if problem is None:
                raise Http404
            services.link_request(user, problem, req)
        else:
            title = _text(post, "title").strip() or req.title
            services.create_common_problem(user, title, req.category, [req])
    else:
        raise Http404
