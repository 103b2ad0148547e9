"""Changing a program's parameters from its page: what a change alters, and maker-checker for money.

A change that alters no money field is written at once (``params.set_value``, audited). One that alters a
money field (``params.money``: a subsidy's cap or budget) is kept as a ``ParameterProposal`` until another
person with the right to edit parameters approves it, then written with both named in the audit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import audit, clock, params
from .errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from .i18n import stored
from .models import Parameter, ParameterProposal


@dataclass(frozen=True)
class Change:
    """One field of a parameter: its value in force and the one proposed."""

    name: str
    check: params.Check
    before: object
    after: object

    @property
    def changed(self) -> bool:
        return not _same(self.check, self.before, self.after)


def _same(check: params.Check, a, b) -> bool:
    if check.kind in ("decimal", "money"):
        try:
            return Decimal(str(a)) == Decimal(str(b))
        except (InvalidOperation, ValueError):
            return a == b
    if check.kind == "choices" and isinstance(a, list) and isinstance(b, list):
        return sorted(a) == sorted(b)
    return a == b


def program_of(key: str) -> str:
    """The program a key belongs to: as its rows say, else the key's first part."""
    found = Parameter.objects.filter(key=key).values_list("program", flat=True).first()
    return found or key.split(".")[0]


def fields_in_force(key: str, on: dt.date | None = None) -> dict:
    """{field: value} of ``key`` in force on ``on`` (today when omitted); empty when none is."""
    schema = params.field_set(key)
    stored = params.value(key, on=on, default=None)
    if schema is None:
        return {}
    return schema.as_fields(stored) if stored is not None else dict(schema.defaults)


def changes(key: str, new_values: dict, on: dt.date) -> list[Change]:
    """Each field of ``key``: the value in force on ``on`` and the new one."""
    schema = params.field_set(key)
    current = fields_in_force(key, on)
    return [Change(name, check, current.get(name), new_values.get(name)) for name, check in schema.checks.items()]


def touches_money(key: str, value, on: dt.date) -> bool:
    """Whether storing ``value`` for ``key`` from ``on`` would change a money field."""
    schema = params.field_set(key)
    if schema is None or not any(c.money for c in schema.checks.values()):
        return False
    return any(c.changed and c.check.money for c in changes(key, schema.as_fields(value), on))


def _require_editor(actor) -> None:
    if not actor.has_perm("core.edit_parameters"):
        raise PermissionDenied("parameter.forbidden", _("无权修改项目参数"))


def _require_not_past(effective_from: dt.date, today: dt.date) -> None:
    if effective_from < today:
        raise ValidationFailed(
            "parameter.effective_from_past", _("生效日期 %(effective_from)s 已过去：请选择今天或以后的日期"),
            field="effective_from", value=effective_from.isoformat(), effective_from=effective_from)


@transaction.atomic
def submit(actor, key: str, new_values: dict, effective_from: dt.date, note: str = ""):
    """Change ``key`` to ``new_values`` ({field: value}) from ``effective_from`` (today or later).
    Returns the written ``Parameter``, or, when a money field changes, the pending ``ParameterProposal``."""
    _require_editor(actor)
    schema = params.field_set(key)
    if schema is None:
        raise NotFound("parameter.no_form", _("参数 %(key)s 不能在页面上修改"), field="key", value=key,
                       key=key)
    _require_not_past(effective_from, clock.today())
    value = params.validate(key, schema.stored(new_values))
    altered = [c for c in changes(key, schema.as_fields(value), effective_from) if c.changed]
    if not altered:
        raise ValidationFailed("parameter.unchanged", _("新取值与生效中的取值相同，没有可保存的修改"), field="value")
    if any(c.check.money for c in altered):
        proposal = ParameterProposal.objects.create(key=key, program=program_of(key), value=value,
                                                    effective_from=effective_from, note=note, proposed_by=actor)
        audit.record(actor, "propose", proposal, note=note)
        return proposal
    return params.set_value(actor, key, program_of(key), value, effective_from, note=note)


def _pending(proposal_id: int) -> ParameterProposal:
    proposal = ParameterProposal.objects.select_for_update().filter(pk=proposal_id).first()
    if proposal is None:
        raise NotFound("parameter.proposal_missing", _("没有这条参数修改提议"))
    if proposal.status != ParameterProposal.Status.PENDING:
        raise Conflict("parameter.proposal_decided", _("这条参数修改提议已经审批过"))
    return proposal


def _decide(actor, proposal: ParameterProposal, status: str, note: str) -> dict:
    _require_editor(actor)
    if proposal.proposed_by_id == actor.pk:
        raise PermissionDenied("parameter.own_proposal", _("不能审批自己提出的参数修改：须由另一位工作人员审批"))
    before = audit.snapshot(proposal)
    proposal.status, proposal.decided_by, proposal.decided_at = status, actor, timezone.now()
    proposal.decision_note = note
    return before


@transaction.atomic
def approve(actor, proposal_id: int, note: str = "") -> Parameter:
    """Approve another person's pending proposal: its value is written, in force from its date, with the
    proposer and the approver in the audit. A date already past is refused (propose again)."""
    proposal = _pending(proposal_id)
    before = _decide(actor, proposal, ParameterProposal.Status.APPROVED, note)
    _require_not_past(proposal.effective_from, clock.today())
    # Kept as its msgid (shown in the reader's language), the proposer's note shortened to fit the column.
    proposer, approver = audit.actor_label(proposal.proposed_by), audit.actor_label(actor)
    text = proposal.note
    while True:
        reason = stored(_("%(note)s（提议人 %(proposer)s，批准人 %(approver)s）"), note=text,
                        proposer=proposer, approver=approver)
        if len(reason) <= 300 or not text:
            break
        text = text[:len(text) - (len(reason) - 300) - 1]
    row = params.set_value(actor, proposal.key, proposal.program, proposal.value, proposal.effective_from,
                           note=reason[:300])
    proposal.parameter = row
    proposal.save()
    audit.record(actor, "approve", proposal, before=before, note=note)
    return row


@transaction.atomic
def reject(actor, proposal_id: int, note: str = "") -> ParameterProposal:
    """Reject another person's pending proposal: nothing is written."""
    proposal = _pending(proposal_id)
    before = _decide(actor, proposal, ParameterProposal.Status.REJECTED, note)
    proposal.save()
    audit.record(actor, "reject", proposal, before=before, note=note)
    return proposal
