from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SiteConfig(AppConfig):
    name = "huiqi.site"
    label = "site"
    verbose_name = _("站点")

    def ready(self):
        from . import discovery, permissions  # noqa: F401 - the shared pages' permissions

        # Every app's permission predicates, registered before the first request asks one.
        discovery.load_permissions()
        # Every program parameter's schema, so that a value is checked when written and when read.
        from huiqi.core import params

        for key, schema in discovery.collect_dict("PARAMETERS").items():
            params.register(key, schema)
        params.LABELS.update(discovery.collect_dict("PARAMETER_LABELS"))
        # The names of the apps' audit actions, for the audit pages.
        from huiqi.core import audit

        audit.ACTIONS.update(discovery.collect_dict("AUDIT_ACTIONS"))
        # Where the audit pages link a record, and who the log's people are (names, organisations).
        audit.LINKS.update(discovery.collect_dict("AUDIT_LINKS"))
        from huiqi.accounts.selectors import AuditPeople

        audit.PEOPLE = AuditPeople()
