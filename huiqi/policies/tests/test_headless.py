"""`huiqi policies load / match / explain` as the spec's last section says."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from huiqi.policies.models import ItemVersion, PolicyItem

from .example import ITEMS
from .test_batch import example  # noqa: F401 - the worked example's registry


def _items(**changes):
    out = []
    for code, criteria in ITEMS.items():
        out.append({"code": code, "title": f"事项{code}", "mode": "application", "status": "published",
                    "opens": "2020-03-01", "closes": None, "tags": {"subject": ["financing"]}, "criteria": criteria})
    for item in out:
        item.update(changes.get(item["code"], {}))
    return out


def _load(tmp_path, items):
    path = tmp_path / "items.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    out = io.StringIO()
    call_command("policies", "load", str(path), stdout=out)
    return out.getvalue()


def test_load_match_and_explain(example, tmp_path):  # noqa: F811
    assert "3" in _load(tmp_path, _items())
    call_command("policies", "match", "P1", "--on", "2020-04-01", "--out", str(tmp_path / "out"), stdout=io.StringIO())
    with open(tmp_path / "out" / "outcomes.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["uscc", "outcome"]
    assert [r[0] for r in rows[1:]] == sorted(example)
    by_name = {example[u]: o for u, o in rows[1:]}
    assert by_name == {"E1": "unknown", "E2": "not_met", "E3": "not_met", "E4": "met", "E5": "not_met"}

    e1 = next(u for u, n in example.items() if n == "E1")
    out = io.StringIO()
    call_command("policies", "explain", "P3", e1, "--on", "2020-04-01", stdout=out)
    data = json.loads(out.getvalue())
    assert data["outcome"] == "met"
    assert [leaf["id"] for leaf in data["leaves"]] == ["L1", "L2", "L3", "L4"]
    assert data["leaves"][0] == {"id": "L1", "field": "district", "op": "in", "value": ["440305", "440304"],
                                 "actual": "440305", "result": "met"}


def test_loading_again_replaces_and_keeps_history(example, tmp_path):  # noqa: F811
    _load(tmp_path, _items())
    _load(tmp_path, _items())  # the same file: nothing new
    assert ItemVersion.objects.filter(item__code="P3").count() == 1
    changed = {"P3": {"criteria": {"field": "employees", "op": "ge", "value": 1000}, "opens": "2020-05-01"}}
    _load(tmp_path, _items(**changed))
    assert list(ItemVersion.objects.filter(item__code="P3").values_list("status", flat=True)) == [
        "superseded", "published"]
    out = io.StringIO()
    e2 = next(u for u, n in example.items() if n == "E2")
    call_command("policies", "explain", "P3", e2, "--on", "2020-04-15", stdout=out)
    assert json.loads(out.getvalue())["outcome"] == "not_met"  # the first version, in force then
    out = io.StringIO()
    call_command("policies", "explain", "P3", e2, "--on", "2020-05-02", stdout=out)
    assert json.loads(out.getvalue())["outcome"] == "met"  # 2500 employees ≥ 1000


def test_a_file_with_one_bad_item_is_refused_whole(db, tmp_path):
    bad = _items(P2={"criteria": {"all": [{"field": "colour", "op": "eq", "value": 1}, {"any": []}]}},
                 P3={"criteria": {"field": "employees", "op": "ge", "value": "ten"}})
    with pytest.raises(CommandError) as caught:
        _load(tmp_path, bad)
    message = str(caught.value)
    assert "P2: $.all[0].field" in message and "P2: $.any" not in message and "P2: $.all[1].any" in message
    assert "P3: $.value" in message and "colour" in message
    assert not PolicyItem.objects.exists()


def test_match_an_unknown_item_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="NOPE"):
        call_command("policies", "match", "NOPE", "--out", str(tmp_path))
