import datetime as dt

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

FILING_REQUIRED_KEY = "resumption.filing_required"
DAILY_CHECK_KEY = "resumption.daily_check"
ATTACHMENT_LIMIT_KEY = "resumption.attachment_max_bytes"
# Within how many working days the district's team inspects a filing and decides (the guide and the
# confirmation say it; an assumption of the platform, the bureau may change it).
CHECK_DAYS_KEY = "resumption.filing_check_days"
FILING_CHECK_DAYS = 3

# The city asked enterprises to file from the 2020-02-08 notice; from 2020-02-20 it no longer did.
FILING_REQUIRED_FROM = dt.date(2020, 2, 8)
FILING_NOT_REQUIRED_FROM = dt.date(2020, 2, 20)
DAILY_CHECK_FROM = dt.date(2020, 2, 3)
DAILY_CHECK_DEFAULTS = {"deadline": "10:00", "lock_days_after": 1, "lock_time": "00:00"}
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024


class ResumptionConfig(AppConfig):
    name = "huiqi.resumption"
    label = "resumption"
    verbose_name = _("复工复产")

    def ready(self):
        from django.core import checks
        from django.db.models.signals import post_migrate, post_save

        checks.register(_pdf_system_parts, "huiqi_system", deploy=True)
        checks.register(_fast_path_stack)
        post_migrate.connect(_ensure_defaults, sender=self)
        post_save.connect(_parameter_changed, sender="core.Parameter")


def _pdf_system_parts(app_configs=None, **kwargs):
    """`huiqi check --deploy --tag huiqi_system`: what the PDF report needs from the machine."""
    from django.core import checks

    from huiqi.core.pdf import missing_system_parts

    return [checks.Warning(text, hint="The rest of the site works without it; only PDF reports need it.",
                           id=f"huiqi.W00{i}") for i, text in enumerate(missing_system_parts(), start=1)]


def _fast_path_stack(app_configs=None, **kwargs):
    """What the daily-check fast path stands in for is still what the API does
    (``api_fast.stack_problems``)."""
    from .api_fast import stack_problems

    return stack_problems(app_configs, **kwargs)


def _parameter_changed(sender, instance, **kwargs):
    if instance.key == DAILY_CHECK_KEY:
        import time

        from django.core.cache import cache

        # A new generation: the values kept under the old one are no longer found.
        cache.set("resumption.daily_check_config:generation", str(time.monotonic_ns()), None)


def _ensure_defaults(sender, using="default", apps=None, **kwargs):
    if apps is not None:
        try:
            apps.get_model("core", "Parameter")
            apps.get_model("resumption", "ChecklistItem")
        except LookupError:
            return
    from huiqi.core import params
    from huiqi.core.i18n import stored
    from huiqi.core.models import Parameter

    if not Parameter.objects.filter(key=FILING_REQUIRED_KEY).exists():
        # Two dated rows: required from the notice, no longer required from the switch.
        params.ensure_default(FILING_REQUIRED_KEY, "resumption", True, FILING_REQUIRED_FROM,
                              description=stored(_("复工是否须报备")))
        Parameter.objects.create(key=FILING_REQUIRED_KEY, program="resumption", value=False,
                                 effective_from=FILING_NOT_REQUIRED_FROM,
                                 description=stored(_("复工是否须报备")),
                                 note=stored(_("默认值：2020-02-20 起不再要求报备")))
    params.ensure_default(DAILY_CHECK_KEY, "resumption", dict(DAILY_CHECK_DEFAULTS), DAILY_CHECK_FROM,
                          description=stored(_("每日排查的截止时间，以及锁定于排查日后第几天的几点")))
    params.ensure_default(ATTACHMENT_LIMIT_KEY, "resumption", ATTACHMENT_MAX_BYTES, FILING_REQUIRED_FROM,
                          description=stored(_("报备附件大小上限（字节）")))
    params.ensure_default(CHECK_DAYS_KEY, "resumption", FILING_CHECK_DAYS, FILING_REQUIRED_FROM,
                          description=stored(_("区复工专班核查并答复复工报备的时限（工作日）")))
    from .checklist import ensure_default_items

    ensure_default_items()
