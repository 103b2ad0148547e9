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
        from django.db.models.signals import post_migrate

        post_migrate.connect(_ensure_default_params, sender=self)


def _ensure_default_params(sender, using="default", apps=None, **kwargs):
    from huiqi.core import params

    if apps is not None:
        try:
            apps.get_model("core", "Parameter")
        except LookupError:  # core migrated backwards: no parameter table to seed
            return

    from huiqi.core.i18n import stored

    from .rules import DEFAULTS

    params.ensure_default(PARAMS_KEY, "subsidy", dict(DEFAULTS), PARAMS_EFFECTIVE_FROM,
                          description=stored(_("贷款贴息参数（窗口、比例、月数、上限、预算、超预算处理）")))
