"""The batch evaluator: criteria compiled to SQL over the enterprises' facts (``shared/specs/policy-hub.md``).

Each node compiles to two two-valued conditions, MET and NOT_MET, and neither ever negates a nullable
column: a leaf's MET is ``f IS NOT NULL AND cmp`` and its NOT_MET is ``f IS NOT NULL AND`` the comparison
written the other way round (``<>`` for ``=``, ``>=`` for ``<``, ``NOT IN`` for ``IN``); ``all`` ANDs the
children's MET and ORs their NOT_MET, ``any`` the reverse, ``not`` swaps them. A row that is neither is
unknown. The relation read has one column ``f_<field>`` per criteria field (``selectors.facts``); money
figures are whole fen there and 万元 in the criteria, compared exactly as integers.
"""

from __future__ import annotations

import math
from decimal import Decimal

from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.functions import Substr
from django.db.models.lookups import (Exact, GreaterThan, GreaterThanOrEqual, In, LessThan, LessThanOrEqual,
                                      Lookup)

from . import rules

FEN_PER_WAN = 1_000_000


class NotEqual(Lookup):
    lookup_name = "policies_ne"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} <> {rhs}", (*lhs_params, *rhs_params)


class NotIn(In):
    lookup_name = "policies_not_in"

    def get_rhs_op(self, connection, rhs):
        return f"NOT IN {rhs}"


NEVER = Q(pk__in=[])
ALWAYS = ~NEVER


def column(name: str) -> str:
    return f"f_{name}"


def _known(name: str) -> Q:
    return Q(**{f"{column(name)}__isnull": False})


def _fen(value: Decimal, how) -> int:
    return int(how(value * FEN_PER_WAN))


def _pair(name: str, ftype: str, op: str, value) -> tuple[Q, Q]:
    """(cmp, the opposite of cmp) for a known value of column ``name``."""
    col = F(column(name))
    if ftype == rules.DECIMAL:
        return _decimal_pair(col, op, value)
    if op == "eq":
        return Q(Exact(col, value)), Q(NotEqual(col, value))
    if op == "ne":
        return Q(NotEqual(col, value)), Q(Exact(col, value))
    if op == "in":
        return Q(In(col, list(value))), Q(NotIn(col, list(value)))
    if op == "not_in":
        return Q(NotIn(col, list(value))), Q(In(col, list(value)))
    if op == "lt":
        return Q(LessThan(col, value)), Q(GreaterThanOrEqual(col, value))
    if op == "le":
        return Q(LessThanOrEqual(col, value)), Q(GreaterThan(col, value))
    if op == "gt":
        return Q(GreaterThan(col, value)), Q(LessThanOrEqual(col, value))
    if op == "ge":
        return Q(GreaterThanOrEqual(col, value)), Q(LessThan(col, value))
    if op == "between":
        low, high = value
        return (Q(GreaterThanOrEqual(col, low)) & Q(LessThanOrEqual(col, high)),
                Q(LessThan(col, low)) | Q(GreaterThan(col, high)))
    if op == "prefix":
        starts = [Q(Exact(Substr(col, 1, len(p), output_field=CharField()), p)) for p in value]
        differs = [Q(NotEqual(Substr(col, 1, len(p), output_field=CharField()), p)) for p in value]
        met = starts[0]
        for q in starts[1:]:
            met |= q
        not_met = differs[0]
        for q in differs[1:]:
            not_met &= q
        return met, not_met
    raise ValueError(op)


def _decimal_pair(col, op: str, value) -> tuple[Q, Q]:
    """Money compared in whole fen: ``fen < x`` is ``fen < ceil(x)`` for a whole ``fen``, and so on, so no
    fraction of a fen ever reaches the database as a float."""
    if op in ("eq", "ne"):
        exact = value * FEN_PER_WAN
        if exact != exact.to_integral_value():
            pair = (NEVER, ALWAYS)
        else:
            pair = (Q(Exact(col, int(exact))), Q(NotEqual(col, int(exact))))
        return pair if op == "eq" else (pair[1], pair[0])
    if op == "between":
        low, high = _fen(value[0], math.ceil), _fen(value[1], math.floor)
        return (Q(GreaterThanOrEqual(col, low)) & Q(LessThanOrEqual(col, high)),
                Q(LessThan(col, low)) | Q(GreaterThan(col, high)))
    bound = {"lt": math.ceil, "ge": math.ceil, "le": math.floor, "gt": math.floor}[op]
    fen = _fen(value, bound)
    return {
        "lt": (Q(LessThan(col, fen)), Q(GreaterThanOrEqual(col, fen))),
        "ge": (Q(GreaterThanOrEqual(col, fen)), Q(LessThan(col, fen))),
        "le": (Q(LessThanOrEqual(col, fen)), Q(GreaterThan(col, fen))),
        "gt": (Q(GreaterThan(col, fen)), Q(LessThanOrEqual(col, fen))),
    }[op]


def compile_criteria(node: dict) -> tuple[Q, Q]:
    """(MET, NOT_MET) of valid criteria, as conditions over the facts relation."""
    if "all" in node:
        parts = [compile_criteria(child) for child in node["all"]]
        return _and(p[0] for p in parts), _or(p[1] for p in parts)
    if "any" in node:
        parts = [compile_criteria(child) for child in node["any"]]
        return _or(p[0] for p in parts), _and(p[1] for p in parts)
    if "not" in node:
        met, not_met = compile_criteria(node["not"])
        return not_met, met
    field = rules.FIELDS[node["field"]]
    value = rules.leaf_value(field, node["op"], node["value"])
    cmp, opposite = _pair(node["field"], field.type, node["op"], value)
    known = _known(node["field"])
    return known & cmp, known & opposite


def _and(parts) -> Q:
    out = None
    for q in parts:
        out = q if out is None else out & q
    return out


def _or(parts) -> Q:
    out = None
    for q in parts:
        out = q if out is None else out | q
    return out


def outcome_expression(criteria: dict) -> Case:
    """An expression giving each row's outcome: ``met``, ``not_met`` or ``unknown``."""
    met, not_met = compile_criteria(criteria)
    return Case(When(met, then=Value(rules.MET)), When(not_met, then=Value(rules.NOT_MET)),
                default=Value(rules.UNKNOWN), output_field=CharField())


def met(facts, criteria: dict):
    """The rows of ``facts`` whose outcome is met."""
    return facts.filter(compile_criteria(criteria)[0])


def outcomes(facts, criteria: dict):
    """``facts`` annotated with ``outcome``."""
    return facts.annotate(outcome=outcome_expression(criteria))


__all__ = ["compile_criteria", "outcome_expression", "met", "outcomes"]
