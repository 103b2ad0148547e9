"""Lists that become cards on a phone: ``{% load tables %}{% listtable %}<table>…</table>{% endlisttable %}``.

The block marks its table ``class="list"`` and gives every body cell (``td``, or a row's ``th``) a
``data-label`` naming its column, taken from the table's header (the last row of ``thead``, colspans
counted). Below 640 px the stylesheet shows each row as a card of "label: value" lines, the first cell
as the card's heading (``table.list`` in ``huiqi.css``). A cell that has its own ``data-label`` keeps it.
The header's text is the page's, so the labels are in the page's language.
"""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

from django import template
from django.utils.safestring import mark_safe

register = template.Library()

_SPACE = re.compile(r"\s+")


class _Labeller(HTMLParser):
    """Reads a rendered table and notes where each body cell's ``data-label`` goes."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.html = html
        starts = [0]
        for match in re.finditer("\n", html):
            starts.append(match.end())
        self.line_starts = starts
        self.depth = 0             # nesting of tables: only the outermost one is labelled
        self.in_head = False
        self.head_row: list[str] = []
        self.labels: list[str] = []
        self.header_cell: list[str] | None = None
        self.header_at = 0
        self.column = 0
        self.inserts: list[tuple[int, str]] = []   # (offset, text) to insert, in order

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def handle_starttag(self, tag, attrs):
        attrs_d = dict(attrs)
        if tag == "table":
            self.depth += 1
            if self.depth == 1:
                self._mark_list(attrs_d)
            return
        if self.depth != 1:
            return
        if tag == "thead":
            self.in_head = True
        elif tag == "tr":
            self.column = 0
            if self.in_head:
                self.head_row = []
        elif tag in ("th", "td"):
            span = _span(attrs_d)
            if self.in_head:
                self.header_cell = []
                self.header_at = len(self.head_row)
                self.head_row.extend([""] * span)
                return
            if "data-label" not in attrs_d and self.column < len(self.labels) and self.labels[self.column]:
                at = self._offset() + 1 + len(tag)
                self.inserts.append((at, f' data-label="{escape(self.labels[self.column])}"'))
            self.column += span

    def _mark_list(self, attrs: dict):
        raw = self.get_starttag_text() or ""
        start = self._offset()
        classes = (attrs.get("class") or "").split()
        if "list" in classes:
            return
        match = re.search(r'\sclass\s*=\s*(["\'])', raw)
        if match:
            self.inserts.append((start + match.end(), "list "))
        else:
            self.inserts.append((start + len("<table"), ' class="list"'))

    def handle_endtag(self, tag):
        if tag == "table":
            self.depth -= 1
            return
        if self.depth != 1:
            return
        if tag in ("th", "td") and self.header_cell is not None:
            text = _SPACE.sub(" ", "".join(self.header_cell)).strip()
            # A header spanning columns names the first of them; the others stay unlabelled.
            self.head_row[self.header_at] = text
            self.header_cell = None
        elif tag == "tr" and self.in_head:
            self.labels = list(self.head_row)
        elif tag == "thead":
            self.in_head = False

    def handle_data(self, data):
        if self.header_cell is not None:
            self.header_cell.append(data)


def _span(attrs: dict) -> int:
    try:
        return max(1, int(attrs.get("colspan") or 1))
    except ValueError:
        return 1


def label_cells(html: str) -> str:
    """``html`` with its (outermost) table marked ``list`` and every body cell labelled by its column."""
    parser = _Labeller(html)
    parser.feed(html)
    parser.close()
    out, last = [], 0
    for at, text in sorted(parser.inserts, key=lambda item: item[0]):
        out.append(html[last:at])
        out.append(text)
        last = at
    out.append(html[last:])
    return "".join(out)


class _ListTableNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        return mark_safe(label_cells(self.nodelist.render(context)))


@register.tag
def listtable(parser, token):
    nodelist = parser.parse(("endlisttable",))
    parser.delete_first_token()
    return _ListTableNode(nodelist)
