import datetime as dt

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

PARAMS_KEY = "subsidy.params"
# The day the 实施办法 was issued: the defaults are in force from then.
PARAMS_EFFECTIVE_FROM = dt.date(2020, 2, 29)


class SubsidyConfig(AppConfig):
    name = "huiqi.subsidy"
    label = "subsidy"
    verbose_name = _("贷款贴息")

    def ready(self):
        from huiqi.core import params

        from .rules import DEFAULTS

        params.seed_after_migrate(self, PARAMS_KEY, lambda: dict(DEFAULTS), PARAMS_EFFECTIVE_FROM,
                                  _("贷款贴息参数（窗口、比例、月数、上限、预算、超预算处理）"))
