"""The program's parameters as the services read them (``core.params``, key ``subsidy.params``), and the
checks of a batch's cutoff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

from huiqi.core import clock
from huiqi.core import params as core_params
from huiqi.core.errors import NotFound, ValidationFailed

from .. import rules
from ..apps import PARAMS_KEY


def _refuse_floats(values: Mapping, where: str) -> None:
    for name, value in values.items():
        if isinstance(value, float):
            raise ValidationFailed(
                "subsidy.params.float",
                _("%(where)s 中的参数 %(name)s 以浮点数 %(value_text)s 保存；金额和比例必须写成字符串（如 \"0.5\"、\"1000000.00\"）"),
                field=name, value=value, where=where, name=name, value_text=repr(value),
            )


def check_stored_params(value, where: str = PARAMS_KEY) -> rules.Params:
    """A stored value of the parameters as the program reads it: an object of the spec's names, no float
    (amounts and rates as strings). The schema that checks a value when it is written (``site.py``)."""
    if not isinstance(value, Mapping):
        raise ValidationFailed("subsidy.params.shape", _("%(where)s 不是参数表（JSON 对象）"), where=where)
    _refuse_floats(value, where)
    return rules.Params.from_mapping(value)


def current_params(on: dt.date | None = None, overrides: Mapping | None = None) -> rules.Params:
    """The parameters in force on ``on`` (today when omitted), with ``overrides`` by the spec's names.

    Refuses a stored value that is a float, naming it; JSON numbers must be strings or integers."""
    on = on or clock.today()
    stored = core_params.value(PARAMS_KEY, on=on)
    result = check_stored_params(stored, f"{PARAMS_KEY}（{on} 生效 in force on {on}）")
    if overrides:
        if not isinstance(overrides, Mapping):
            raise ValidationFailed("subsidy.params.shape", _("参数覆盖必须是 名称→取值 的对象"))
        _refuse_floats(overrides, "参数覆盖 overrides")
        result = result.with_overrides(overrides)
    return result


def _check_cutoff(cutoff) -> dt.date:
    if not isinstance(cutoff, dt.date) or isinstance(cutoff, dt.datetime):
        raise ValidationFailed("subsidy.cutoff", _("截止日期必须是日期（YYYY-MM-DD）"), field="cutoff", value=cutoff)
    return cutoff


def params_for_cutoff(cutoff, overrides: Mapping | None = None) -> rules.Params:
    """The parameters a batch or a simulation with this ``cutoff`` computes with (those in force on it,
    with ``overrides``), refusing, with the field named, a cutoff outside the program's dates: before
    any parameter is in force, before the window's start or after ``program_end``
    (``rules.check_cutoff``)."""
    cutoff = _check_cutoff(cutoff)
    try:
        params = current_params(cutoff, overrides)
    except NotFound as exc:
        raise ValidationFailed(
            "subsidy.cutoff_outside_program",
            _("截止日期 %(cutoff)s 不在项目期内：项目参数 %(params_key)s 在 %(cutoff)s 没有生效的取值"), field="cutoff",
            value=cutoff.isoformat(), cutoff=cutoff, params_key=PARAMS_KEY,
        ) from exc
    rules.check_cutoff(cutoff, params)
    return params


def default_cutoff(today: dt.date | None = None) -> dt.date:
    """The cutoff a form offers, and a simulation's export takes when none is given: today, or the
    program's end once it has passed (a cutoff after it is refused)."""
    today = today or clock.today()
    try:
        return min(today, current_params(today).program_end)
    except NotFound:
        return today
