from django.urls import path

from . import views

app_name = "subsidy"
urlpatterns = [
    path("", views.index, name="index"),
    path("simulate/", views.simulate, name="simulate"),
    path("simulate/export.<str:fmt>", views.simulate_export, name="simulate_export"),
    path("b/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("b/<int:pk>/do/<str:action>/", views.batch_action, name="batch_action"),
    path("b/<int:pk>/files/<str:name>", views.batch_file, name="batch_file"),
    path("b/<int:pk>/beneficiaries/", views.beneficiaries, name="beneficiaries"),
    path("b/<int:pk>/beneficiaries.<str:fmt>", views.beneficiaries_export, name="beneficiaries_export"),
    path("b/<int:pk>/loans/", views.loan_lines, name="loan_lines"),
    path("b/<int:pk>/loans.<str:fmt>", views.loan_lines_export, name="loan_lines_export"),
    path("b/<int:pk>/reconcile/", views.reconcile, name="reconcile"),
    path("reconcile/template.<str:lang>.<str:fmt>", views.reconciliation_template, name="reconciliation_template"),
    path("b/<int:pk>/reconcile/<int:rid>/<str:decision>/", views.reconciliation_decide,
         name="reconciliation_decide"),
    path("mine/export.<str:fmt>", views.mine_export, name="mine_export"),
    path("bank/export.<str:fmt>", views.bank_export, name="bank_export"),
]
