from django.contrib import admin

from huiqi.core.admin import AdminOnly, AuditedAdmin

from .models import Agency, Bank, BusinessOwner, District, Enterprise, FundInstitution, Industry


@admin.register(Bank)
class BankAdmin(AdminOnly, AuditedAdmin):
    list_display = ["code", "name", "signed_date", "onboarded_date"]
    search_fields = ["code", "name"]


@admin.register(District)
class DistrictAdmin(AdminOnly, AuditedAdmin):
    list_display = ["code", "name", "name_en"]


@admin.register(Industry)
class IndustryAdmin(AdminOnly, AuditedAdmin):
    list_display = ["code", "name", "level", "section", "size_group"]
    list_filter = ["level", "section", "size_group"]
    search_fields = ["code", "name"]


@admin.register(Agency)
class AgencyAdmin(AdminOnly, AuditedAdmin):
    list_display = ["code", "name", "parent"]


@admin.register(FundInstitution)
class FundInstitutionAdmin(AdminOnly, AuditedAdmin):
    list_display = ["code", "name"]


@admin.register(Enterprise)
class EnterpriseAdmin(AdminOnly, AuditedAdmin):
    list_display = ["uscc", "name", "kind", "district", "industry", "size_class"]
    list_filter = ["kind", "size_class", "district"]
    search_fields = ["uscc", "name"]
    readonly_fields = ["size_class", "size_missing", "size_year"]
    list_select_related = ["district", "industry"]

    def save_model(self, request, obj, form, change):
        from .services import _apply_size, announce_facts_changed

        facts = ("ownership", "size_class")
        before = Enterprise.objects.filter(pk=obj.pk).values(*facts).first() if change else None
        _apply_size(obj)
        super().save_model(request, obj, form, change)
        if before is not None and any(before[f] != getattr(obj, f) for f in facts):
            announce_facts_changed(request.user, [obj.uscc])


@admin.register(BusinessOwner)
class BusinessOwnerAdmin(AdminOnly, AuditedAdmin):
    list_display = ["name", "masked_id"]
    exclude = ["resident_id"]
    readonly_fields = ["masked_id"]
    raw_id_fields = ["enterprises"]
