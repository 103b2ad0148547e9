"""我的待办: what waits for the signed-in person, from every app's ``TODOS`` (``core.declarations.Todo``)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.http import urlencode

from huiqi.accounts.selectors import role_of

from . import discovery


def todos_for(user) -> list[dict]:
    """The to-dos with something waiting, in order: ``name``, ``label``, ``count`` and ``url`` (the list
    with its filters in the query string, or the one record that waits)."""
    role = role_of(user)
    if role is None:
        return []
    out = []
    for todo in discovery.todos():
        if todo.roles is not None and role not in todo.roles:
            continue
        if todo.permission is not None and not user.has_perm(todo.permission):
            continue
        count = todo.count(user)
        if not count:
            continue
        url = todo.link(user, count) if todo.link is not None else None
        if not url:
            query = todo.query(user) if callable(todo.query) else todo.query
            url = reverse(todo.url_name) + (f"?{urlencode(query)}" if query else "")
        out.append({"name": todo.name, "label": todo.label, "count": count, "url": url})
    return out


def programs_of(user, enterprise) -> list[dict]:
    """What ``enterprise`` has in each program that ``user`` may see (参与的惠企项目): ``name``, ``label``,
    ``facts`` and ``url``; programs where it has nothing are left out."""
    out = []
    for program in discovery.enterprise_programs():
        summary = program.summary(user, enterprise)
        if summary:
            out.append({"name": program.name, "label": program.label, "facts": summary.get("facts", []),
                        "url": summary.get("url")})
    return out
