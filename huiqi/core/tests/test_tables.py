"""Lists that become cards on a phone: ``{% listtable %}`` labels every body cell with its column."""

from __future__ import annotations

from django.template import Context, Template

from huiqi.core.templatetags.tables import label_cells


def test_each_body_cell_is_labelled_by_its_column():
    html = label_cells(
        '<div class="table-wrap"><table class="loans"><thead><tr><th>编号</th><th colspan="2">金额 <small>（元）'
        '</small></th><th>A&amp;B</th></tr></thead>\n<tbody><tr><td class="nowrap"><a>1</a></td><td>2</td>'
        '<td>3</td><td data-label="own">4</td></tr>\n<tr><td colspan="3">x</td><td><table><tr><td>in</td></tr>'
        '</table></td></tr></tbody></table></div>')
    assert '<table class="list loans">' in html
    assert '<td data-label="编号" class="nowrap"><a>1</a></td>' in html
    assert '<td data-label="金额 （元）">2</td><td>3</td>' in html          # a colspan names its first column
    assert '<td data-label="own">4</td>' in html                             # a cell's own label is kept
    assert '<td data-label="编号" colspan="3">x</td><td data-label="A&amp;B">' in html
    assert "<table><tr><td>in</td></tr></table>" in html                     # a table inside a cell is left


def test_the_block_renders_its_table_with_labels():
    rendered = Template(
        '{% load tables %}{% listtable %}<table><thead><tr><th>{{ h }}</th></tr></thead>'
        '<tbody>{% for v in values %}<tr><td>{{ v }}</td></tr>{% endfor %}</tbody></table>{% endlisttable %}'
    ).render(Context({"h": "Name <b>", "values": ["x", "y"]}))
    assert rendered == ('<table class="list"><thead><tr><th>Name &lt;b&gt;</th></tr></thead><tbody>'
                        '<tr><td data-label="Name &lt;b&gt;">x</td></tr><tr><td data-label="Name &lt;b&gt;">y</td>'
                        '</tr></tbody></table>')
