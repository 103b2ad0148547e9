"""What the epidemic-supplies program adds to the platform (``docs/layout.md``): so far its producers
directory (生产企业目录), which the stable-development fund reads for priority as of a received date."""

from django.utils.translation import gettext_lazy as _

from huiqi.core.declarations import DemoStep

AUDIT_ACTIONS = {
    "supplies.list": _("列入生产企业目录"), "supplies.product": _("登记生产企业产品"),
    "supplies.suspend": _("暂停生产企业"), "supplies.resume": _("恢复生产企业"),
}


def _demo(scale, seed, progress) -> str:
    from . import demo

    return demo.build_and_describe(scale, seed, progress)


# After the registry (0) and before the fund (48), whose priority reads the directory; the policy hub (60)
# reads it too.
DEMO = [DemoStep(47, _demo)]
