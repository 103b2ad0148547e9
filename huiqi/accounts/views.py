"""Log-in (with lock-out message and the demo accounts listed) and log-out."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

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


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LockoutAwareForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        order = {r: i for i, r in enumerate(Role.values)}
        demo = sorted(User.objects.filter(is_demo=True, is_active=True).select_related(
            "district", "agency", "bank", "institution"), key=lambda u: (order.get(u.role, 99), u.username))
        ctx["demo_users"] = demo
        ctx["demo_password"] = getattr(settings, "HUIQI_DEMO_PASSWORD", "")
        return ctx


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, _("已退出登录。"))
    return redirect("accounts:login")
