import datetime as dt

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

PARAMS_KEY = "pool.params"
# The defaults are the pool's terms as the 2020 measures left them, dated from the pool's start under
# 深府规〔2018〕17号, so that every loan registered since has a table to be priced by (the window's rows
# only ever apply to loans started in the window, which no earlier registration can be).
PARAMS_EFFECTIVE_FROM = dt.date(2018, 1, 1)


class PoolConfig(AppConfig):
    name = "huiqi.pool"
    label = "pool"
    verbose_name = _("风险补偿资金池")

    def ready(self):
        from huiqi.core import params

        from .rules import DEFAULTS

        params.seed_after_migrate(self, PARAMS_KEY, lambda: dict(DEFAULTS), PARAMS_EFFECTIVE_FROM,
                                  _("风险补偿资金池参数（规模、比例表、上限、期限）"))
