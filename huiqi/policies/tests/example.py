"""The spec's worked example (``shared/specs/policy-hub.md``): five enterprises, three items."""

from __future__ import annotations

import datetime as dt

P1 = {"all": [
    {"id": "L1", "field": "supplies_producer", "op": "eq", "value": True},
    {"any": [{"id": "L2", "field": "industry", "op": "prefix", "value": ["C27", "C35"]},
             {"id": "L3", "field": "key_enterprise", "op": "eq", "value": True}]},
    {"not": {"id": "L4", "field": "credit_blacklisted", "op": "eq", "value": True}},
]}
P2 = {"any": [
    {"all": [{"id": "L1", "field": "kind", "op": "eq", "value": "enterprise"},
             {"id": "L2", "field": "size_class", "op": "in", "value": ["medium", "small", "micro"]}]},
    {"id": "L3", "field": "kind", "op": "eq", "value": "individual_business"},
]}
P3 = {"all": [
    {"id": "L1", "field": "district", "op": "in", "value": ["440305", "440304"]},
    {"id": "L2", "field": "established_on", "op": "le", "value": "2019-12-31"},
    {"id": "L3", "field": "employees", "op": "ge", "value": 10},
    {"id": "L4", "field": "size_class", "op": "in", "value": ["small", "micro"]},
]}
ITEMS = {"P1": P1, "P2": P2, "P3": P3}


def _facts(kind, size, district, industry, established, employees, producer, key, blacklisted):
    return {"kind": kind, "size_class": size, "district": district, "industry": industry,
            "established_on": dt.date.fromisoformat(established), "employees": employees, "revenue": None,
            "assets": None, "supplies_producer": producer, "key_enterprise": key,
            "credit_blacklisted": blacklisted, "pool_loan": False, "fund_approved": False}


ENTERPRISES = {
    "E1": _facts("enterprise", "small", "440305", "C2770", "2015-06-01", 50, True, False, None),
    "E2": _facts("enterprise", "large", "440304", "I6510", "2008-03-01", 2500, False, False, False),
    "E3": _facts("individual_business", "micro", "440304", "F5225", "2019-05-01", 3, False, False, False),
    "E4": _facts("enterprise", None, "440306", None, "2018-07-01", 60, True, True, False),
    "E5": _facts("enterprise", "medium", "440304", "C3581", "2010-01-01", 320, True, True, True),
}

# (leaf results in document order, outcome) per enterprise and item: the spec's second table.
EXPECTED = {
    "E1": {"P1": ("mmnu", "unknown"), "P2": ("mmn", "met"), "P3": ("mmmm", "met")},
    "E2": {"P1": ("nnnn", "not_met"), "P2": ("mnn", "not_met"), "P3": ("mmmn", "not_met")},
    "E3": {"P1": ("nnnn", "not_met"), "P2": ("nmm", "met"), "P3": ("mmnm", "not_met")},
    "E4": {"P1": ("mumn", "met"), "P2": ("mun", "unknown"), "P3": ("nmmu", "not_met")},
    "E5": {"P1": ("mmmm", "not_met"), "P2": ("mmn", "met"), "P3": ("mmmn", "not_met")},
}
LETTER = {"m": "met", "n": "not_met", "u": "unknown"}
