import datetime as dt

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

PARAMS_KEY = "policies.params"
# The hub's opening (an assumption of the spec: no public source dates it).
PARAMS_EFFECTIVE_FROM = dt.date(2020, 2, 1)


class PoliciesConfig(AppConfig):
    name = "huiqi.policies"
    label = "policies"
    verbose_name = _("惠企政策精准办")

    def ready(self):
        from huiqi.core import params

        from .parameters import DEFAULTS

        params.seed_after_migrate(self, PARAMS_KEY, lambda: dict(DEFAULTS), PARAMS_EFFECTIVE_FROM,
                                  _("惠企政策参数（异议期、提醒、推送时间与频次、宣传统计起点）"))
