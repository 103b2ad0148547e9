from django.contrib import admin

from huiqi.core.admin import AdminOnly, AuditedAdmin

from .models import Product


@admin.register(Product)
class ProductAdmin(AdminOnly, AuditedAdmin):
    """The catalogue (防疫物资目录). A product's unit never changes once it is in use: a new unit is a new
    product, so the unit of a saved product is read-only."""

    list_display = ["code", "name", "name_en", "product_class", "unit", "order", "active"]
    list_filter = ["product_class", "unit", "active"]
    search_fields = ["code", "name", "name_en"]

    def get_readonly_fields(self, request, obj=None):
        return ["code", "unit"] if obj is not None else []
