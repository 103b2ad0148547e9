from django import forms
from django.contrib import admin
from django.db import transaction

from huiqi.core import audit

from .models import ChecklistItem

# A change of these makes a new dated row; setting ``effective_to`` alone (retiring an item) is done in place.
_VERSIONED = {"group", "text", "text_en", "order", "effective_from"}


class ChecklistItemForm(forms.ModelForm):
    class Meta:
        model = ChecklistItem
        fields = ["code", "group", "text", "text_en", "order", "effective_from", "effective_to"]

    def makes_new_row(self) -> bool:
        return self.instance.pk is not None and bool(_VERSIONED & set(self.changed_data))

    def clean(self):
        data = super().clean()
        start = data.get("effective_from")
        if self.makes_new_row() and start is not None:
            latest = ChecklistItem.objects.filter(code=self.instance.code).order_by("-effective_from").first()
            if latest is not None and start <= latest.effective_from:
                self.add_error("effective_from", forms.ValidationError(
                    f"修改后的条目是一条新记录，须晚于 {latest.effective_from:%Y-%m-%d} 生效；原记录保留为历史。"
                    f" / A changed item is a new row and must start after {latest.effective_from:%Y-%m-%d}; "
                    f"the earlier rows stay as history.", code="checklist.start_not_later"))
        return data


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    """The bureau edits the prevention checklist here. A changed item is a new row with a later start
    (the row in force until then is closed on that day), so filings keep the text they were made
    against and ``items_on`` answers for any past day; only an end date is set in place."""

    form = ChecklistItemForm
    list_display = ("code", "group", "text", "text_en", "order", "effective_from", "effective_to")
    list_filter = ("group",)
    search_fields = ("code", "text", "text_en")

    def has_module_permission(self, request, obj=None):
        return request.user.is_active and request.user.role in ("bureau", "admin")

    has_view_permission = has_change_permission = has_add_permission = has_module_permission

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        if change and form.makes_new_row():
            code = ChecklistItem.objects.get(pk=obj.pk).code
            latest = (ChecklistItem.objects.select_for_update().filter(code=code)
                      .order_by("-effective_from").first())
            if latest.effective_to is None or latest.effective_to > obj.effective_from:
                before = audit.snapshot(latest)
                latest.effective_to = obj.effective_from
                latest.save(update_fields=["effective_to"])
                audit.record(request.user, "update", latest, before=before, note="closed by a new version")
            obj.pk, obj.code = None, code
            obj._state.adding = True
            obj.save()
            audit.record(request.user, "create", obj, note=f"new version of {code}")
            return
        before = audit.snapshot(ChecklistItem.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        audit.record(request.user, "update" if change else "create", obj, before=before)
