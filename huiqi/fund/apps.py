import datetime as dt

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

PARAMS_KEY = "fund.params"
# The set takes effect with 深府规〔2020〕1号 (an assumption of the spec: the scheme's own date is not in the
# seed). The channels' base rates have no default: they are set on the parameters page before go-live.
PARAMS_EFFECTIVE_FROM = dt.date(2020, 2, 7)


class FundConfig(AppConfig):
    name = "huiqi.fund"
    label = "fund"
    verbose_name = _("民营企业平稳发展基金")

    def ready(self):
        from huiqi.core import params

        from .rules import DEFAULTS

        params.seed_after_migrate(self, PARAMS_KEY, lambda: dict(DEFAULTS), PARAMS_EFFECTIVE_FROM,
                                  _("平稳发展基金参数（渠道、单户上限、利率折扣、期限、办理时限）"))

        from huiqi.registry.services import enterprises_regrouped

        enterprises_regrouped.connect(_regrouped, dispatch_uid="fund.funnel.regrouped")

        from huiqi.registry.services import enterprise_facts_changed

        enterprise_facts_changed.connect(_facts_changed, dispatch_uid="fund.precheck.facts_changed")


def _regrouped(sender, usccs, **kwargs):
    """The registry moved enterprises to another district or industry: their parts of the funnel's roll-up
    move with them, in the registry write's transaction."""
    from .models import Application
    from .services import refresh_funnel

    usccs = list(usccs)
    applicants = set()
    for start in range(0, len(usccs), 5000):
        applicants.update(Application.objects.filter(uscc__in=usccs[start:start + 5000])
                          .values_list("uscc", flat=True).distinct())
    if applicants:
        refresh_funnel(applicants)


def _facts_changed(sender, usccs, actor=None, **kwargs):
    """The registry supplied an ownership or a size class: the applications waiting on it are pre-checked
    again, in the registry write's transaction (``services.rerun_waiting_prechecks``)."""
    from .services import rerun_waiting_prechecks

    rerun_waiting_prechecks(usccs, by=actor)
