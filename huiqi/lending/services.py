"""The ledger's writes another program may ask for: a bank file loaded through the one upload path."""

from __future__ import annotations


def import_path(actor, kind: str, path):
    """Load a bank data file (``banks``, ``loans``, ``payments``, ``npl``) from ``path`` as ``actor``, whole or
    not at all (``imports.import_path``): the same checks, audit and refusal report as an upload."""
    from .imports import import_path as load

    return load(actor, kind, path)
