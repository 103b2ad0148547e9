"""The REST API, one router for every app."""

from rest_framework.routers import DefaultRouter

from huiqi.accounts import api as accounts_api
from huiqi.core import api_views as core_api
from huiqi.lending import api as lending_api
from huiqi.registry import api as registry_api
from huiqi.requests import api as requests_api
from huiqi.resumption import api as resumption_api
from huiqi.subsidy import api as subsidy_api

router = DefaultRouter()
# First: the morning's daily checks are the busiest route, and patterns are tried in order.
router.register("daily-checks", resumption_api.DailyCheckViewSet, basename="resumption-daily-check")
router.register("enterprises", registry_api.EnterpriseViewSet, basename="enterprise")
router.register("owners", registry_api.BusinessOwnerViewSet, basename="owner")
router.register("districts", registry_api.DistrictViewSet, basename="district")
router.register("industries", registry_api.IndustryViewSet, basename="industry")
router.register("banks", registry_api.BankViewSet, basename="bank")
router.register("institutions", registry_api.FundInstitutionViewSet, basename="institution")
router.register("registry-imports", registry_api.RegistryImportViewSet, basename="registry-import")
router.register("loans", lending_api.LoanViewSet, basename="loan")
router.register("ledger-uploads", lending_api.LedgerUploadViewSet, basename="ledger-upload")
router.register("subsidy-batches", subsidy_api.SubsidyBatchViewSet, basename="subsidy-batch")
router.register("subsidy-loan-lines", subsidy_api.SubsidyLoanLineViewSet, basename="subsidy-loan-line")
router.register("subsidy-payments", subsidy_api.SubsidyPaymentViewSet, basename="subsidy-payment")
router.register("return-to-work-filings", resumption_api.FilingViewSet, basename="resumption-filing")
router.register("requests", requests_api.RequestViewSet, basename="enterprise-request")
router.register("request-categories", requests_api.CategoryViewSet, basename="request-category")
router.register("jobs", core_api.JobViewSet, basename="job")
router.register("audit", core_api.AuditEventViewSet, basename="audit")
router.register("parameters", core_api.ParameterViewSet, basename="parameter")

urlpatterns = [*router.urls, *accounts_api.urlpatterns]
