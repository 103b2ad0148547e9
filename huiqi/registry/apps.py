from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "huiqi.registry"
    label = "registry"
    verbose_name = "企业名录 Registry"

    def ready(self):
        from django.db.models.signals import post_migrate

        post_migrate.connect(_load_reference, sender=self)


def _load_reference(sender, using="default", **kwargs):
    from . import reference

    reference.load()
