"""Log-in (with lock-out message and the demo accounts listed), log-out, and the account page where a user
issues and revokes its API tokens."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from huiqi.core.errors import DomainError

from . import selectors, services
from .models import Role, User


class LockoutAwareForm(AuthenticationForm):
    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            if getattr(self.request, "huiqi_locked_until", None):
                raise ValidationError(
                    _("登录失败次数过多，账户已临时锁定，请稍后再试。"), code="locked"
                ) from None
            raise


# What each role does on the platform, in one line (the log-in page's list of demo accounts).
ROLE_LINES = {
    Role.ENTERPRISE: gettext_lazy("查看本企业的贷款和贴息，复工报备、每日排查，提出诉求并评价答复。"),
    Role.DISTRICT: gettext_lazy("核查本区企业的复工报备，跟进企业申请协调的困难，查看本区复工数据。"),
    Role.DEPARTMENT: gettext_lazy("签收、办理和答复分派给本部门的企业诉求；12345 热线坐席代来电企业登记诉求。"),
    Role.BUREAU: gettext_lazy("管理企业名录和项目参数；贴息批次的计算、复核、审批由三人分别完成后拨付。"),
    Role.BANK: gettext_lazy("报送本行的贷款、付息和不良贷款数据，查看本行贷款的贴息情况。"),
    Role.INSTITUTION: gettext_lazy("代表基金机构；风险补偿和平稳发展基金上线后在此办理。"),
    Role.AUDITOR: gettext_lazy("只读查看全市数据、贴息批次和审计日志，抽查已拨付的款项。"),
    Role.ADMIN: gettext_lazy("管理用户、接口令牌和后台任务，可执行所有操作。"),
}


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LockoutAwareForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        order = {r: i for i, r in enumerate(Role.values)}
        demo = sorted(User.objects.filter(is_demo=True, is_active=True).select_related(
            "district", "agency", "bank", "institution"), key=lambda u: (order.get(u.role, 99), u.username))
        # One row per account; the role's line once, beside its first account.
        rows, seen = [], {}
        for u in demo:
            row = {"user": u, "line": ROLE_LINES.get(u.role, ""), "span": 0}
            if u.role not in seen:
                seen[u.role] = row
            seen[u.role]["span"] += 1
            rows.append(row)
        ctx["demo_users"] = rows
        ctx["demo_password"] = getattr(settings, "HUIQI_DEMO_PASSWORD", "")
        return ctx


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, _("已退出登录。"))
    return redirect("accounts:login")


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("用途"), max_length=services.TOKEN_NAME_MAX, required=False,
                           help_text=gettext_lazy("如：报送系统"))
    days = forms.IntegerField(label=gettext_lazy("有效天数"), min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        longest = settings.HUIQI_API_TOKEN_DAYS
        days = self.fields["days"]
        days.max_value, days.initial = longest, longest
        days.validators.append(MaxValueValidator(longest))
        days.widget.attrs.update(min=1, max=longest)


@never_cache  # the page that shows a new key once is never kept by a browser or a proxy
@login_required
def account(request):
    """The signed-in user: who it is, and its API tokens — issue one (its key shown this once), revoke one."""
    form, issued, status = TokenForm(), None, 200
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            try:
                token, key = services.issue_token(request.user, request.user, name=form.cleaned_data["name"],
                                                  days=form.cleaned_data["days"])
                issued, form = {"token": token, "key": key}, TokenForm()
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        if issued is None:
            status = 400
    own = selectors.tokens_for(request.user).filter(user=request.user)
    now = timezone.now()
    return render(request, "accounts/account.html", {
        "form": form, "issued": issued, "lifetime": settings.HUIQI_API_TOKEN_DAYS,
        "tokens": [(t, t.state(now)) for t in own[:200]],
        "ask_revoke": _("撤销后，使用该令牌的请求将立即被拒绝，且无法恢复。确定撤销吗？"),
    }, status=status)


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(selectors.tokens_for(request.user).filter(user=request.user), pk=pk)
    if services.revoke_token(request.user, token):
        messages.success(request, _("令牌 %(prefix)s… 已撤销。") % {"prefix": token.prefix})
    return redirect("accounts:account")
