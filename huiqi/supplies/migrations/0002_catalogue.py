"""The catalogue's starting list (``specs/supplies-and-casework.md``, 防疫物资目录); the bureau edits it."""

from django.db import migrations

PRODUCTS = [
    # code, name, English, class, English class, unit
    ("GOWN-MED", "医用防护服", "Medical protective clothing", "防护用品", "Protective equipment", "garment"),
    ("MASK-N95", "医用防护口罩（N95）", "Medical protective mask (N95)", "口罩", "Masks", "piece"),
    ("MASK-SURG", "医用外科口罩", "Surgical mask", "口罩", "Masks", "piece"),
    ("MASK-DISP", "一次性使用医用口罩", "Disposable medical mask", "口罩", "Masks", "piece"),
    ("GOGGLES", "护目镜/防护面屏", "Goggles / face shield", "防护用品", "Protective equipment", "item"),
    ("THERMO-IR", "红外测温仪", "Infrared thermometer", "设备", "Equipment", "set"),
    ("DISINF", "消毒液", "Disinfectant", "消杀用品", "Disinfection", "tonne"),
    ("HAND-SAN", "手消毒剂", "Hand sanitiser", "消杀用品", "Disinfection", "tonne"),
    ("ALCOHOL", "医用酒精", "Medical alcohol", "消杀用品", "Disinfection", "tonne"),
    ("GLOVES", "医用手套", "Medical gloves", "防护用品", "Protective equipment", "pair"),
    ("GOWN-ISO", "隔离衣", "Isolation gown", "防护用品", "Protective equipment", "garment"),
    ("MELTBLOWN", "熔喷布", "Melt-blown fabric", "原材料", "Raw materials", "tonne"),
    ("VENTILATOR", "呼吸机", "Ventilator", "设备", "Equipment", "set"),
    ("TEST-KIT", "检测试剂", "Test kit", "检测试剂", "Diagnostics", "test"),
]


def seed(apps, schema_editor):
    Product = apps.get_model("supplies", "Product")
    for order, (code, name, name_en, cls, cls_en, unit) in enumerate(PRODUCTS, start=1):
        Product.objects.get_or_create(code=code, defaults={
            "name": name, "name_en": name_en, "product_class": cls, "product_class_en": cls_en, "unit": unit,
            "order": order * 10})


class Migration(migrations.Migration):
    dependencies = [("supplies", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
