from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

PARAMS_KEY = "requests.params"


class RequestsConfig(AppConfig):
    name = "huiqi.requests"
    label = "requests"
    verbose_name = _("企业诉求")

    def ready(self):
        from django.db.models.signals import post_migrate

        post_migrate.connect(_seed, sender=self)


def _seed(sender, using="default", apps=None, **kwargs):
    """The calendar, the categories, the hotline agency and the parameters, when missing; never
    overwrites what the bureau has edited."""
    from . import reference

    reference.load()
