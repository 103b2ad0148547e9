"""The pages around a form, as good government portals have them: the service guide (办事指南) before
it and the confirmation after it.

A program declares each of its forms' guides in its ``site.py`` (``GUIDES = {"resumption.filing":
Guide(...)}``): who may apply, what is needed, how long it takes, what happens next. Every text is a
Chinese msgid; its numbers are ``%(name)s`` placeholders filled from the program's parameters by
``values(today)``, never written into the text. The form's page shows it with
``{% include "core/_guide.html" %}`` (``guide_context``): in full above the form with a "开始办理" button
leading to it, folded away once the form comes back with errors.

A successful submit redirects (post/redirect/get) to the program's confirmation URL, whose view checks
that the reader owns the saved record and renders ``confirmation(...)``: the reference number, what
happens next and by when, a link to the record and one to the home page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.shortcuts import render

from . import clock, formats
from .i18n import render as translated


@dataclass(frozen=True)
class Guide:
    """办事指南 of one form: every text a lazy msgid whose placeholders ``values(today)`` fills."""

    title: object
    who: object
    needs: Sequence[object]
    time: object
    next: Sequence[object]
    values: Callable[[dt.date], dict] | None = None

    def shown(self, today: dt.date | None = None) -> dict:
        """The guide's texts in the reader's language, with the numbers in force ``today``."""
        values = self.values(today or clock.today()) if self.values else {}

        def text(message):
            return translated(message, values) if values else translated(message)

        return {"title": text(self.title), "who": text(self.who), "needs": [text(n) for n in self.needs],
                "time": text(self.time), "next": [text(n) for n in self.next]}


def guide_context(guide: Guide, form=None, *, today: dt.date | None = None, start: str = "#form") -> dict:
    """What ``core/_guide.html`` reads: the guide, where "开始办理" leads, and whether it is folded away
    (the form came back: the person has read it already)."""
    return {"guide": guide.shown(today), "guide_start": start,
            "guide_folded": bool(form is not None and form.is_bound)}


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation page says: the title, the reference the person quotes, the steps that follow,
    the day by which the next one happens (None: no date), and where to go from here."""

    title: object
    reference: str
    next: Sequence[object]
    view_url: str
    view_label: object
    by: dt.date | dt.datetime | None = None
    by_label: object = ""
    facts: Sequence[tuple[object, object]] = field(default_factory=tuple)

    @property
    def timed(self) -> bool:
        """Whether ``by`` is a moment (shown with its time) rather than a day."""
        return isinstance(self.by, dt.datetime)


def confirmation(request, done: Confirmation, status: int = 200):
    """The confirmation page of a submitted form (``core/confirmation.html``)."""
    return render(request, "core/confirmation.html", {"done": done}, status=status)


def upload_confirmation(record, view_url: str) -> Confirmation:
    """The confirmation of an uploaded file (a bank's ledger file, a registry file): its number and
    file, what became of it so far, and what follows."""
    from django.utils.translation import gettext as _

    status = record.status
    if status == "pending":
        title, steps = _("文件已收到，正在校验"), [
            _("系统在后台逐行校验这个文件，完成后结果显示在文件的页面上。"),
            _("全部行通过才入库；只要有一行有误，整个文件不入库，并给出逐行错误报告。")]
    elif status in ("stored", "unchanged"):
        title, steps = _("文件已校验并入库"), [
            _("数据已入库，相关项目即按新数据办理。") if status == "stored" else _("文件与已入库的数据相同，没有任何变化。")]
    elif status == "refused":
        title, steps = _("文件已收到，未通过校验"), [
            _("文件有误，没有任何数据入库。"), _("请按文件页面上的错误明细修改后重新上传。")]
    else:
        title, steps = _("文件已收到，处理失败"), [_("请稍后重新上传；如果仍然失败，请联系平台管理员。")]
    facts = [(_("文件"), record.file_name), (_("状态"), record.get_status_display())]
    if status not in ("pending", "failed"):
        facts += [(_("数据行"), formats.count(record.rows_total)), (_("错误"), formats.count(record.error_count))]
    return Confirmation(title=title, reference=f"#{record.pk}", next=steps, view_url=view_url,
                        view_label=_("查看文件的处理结果"), facts=facts)
