from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "huiqi.registry"
    label = "registry"
    verbose_name = _("企业名录")

    def ready(self):
        from django.db.models.signals import post_migrate

        post_migrate.connect(_load_reference, sender=self)


def _load_reference(sender, using="default", **kwargs):
    from . import reference

    reference.load()
