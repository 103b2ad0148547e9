"""What accounts adds to the site: who-am-I and the token exchange under ``/api/v1/``."""

API_URLS = "huiqi.accounts.api.urlpatterns"
