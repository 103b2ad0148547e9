"""Huiqi settings: one module, configured from the environment.

DATABASE_URL selects the database (e.g. postgres://postgres@127.0.0.1:5432/huiqi); without it an
SQLite file in HUIQI_DATA_DIR (default ./var) is used, so a newcomer needs nothing but Python.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("HUIQI_DATA_DIR", Path.cwd() / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


DEBUG = _flag("HUIQI_DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY") or os.environ.get("HUIQI_SECRET_KEY")
if not SECRET_KEY:
    # A newcomer's machine gets a key of its own, kept beside the database.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        key_file.write_text(get_random_secret_key())
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

# The host names this site answers to; a deployment lists its own (never "*": the Host header is
# then the client's to choose). The default serves the machine it runs on.
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("HUIQI_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
                 if h.strip()]
# Where the site is reached from outside, for absolute links (Open311 discovery): configured, never
# taken from the request's Host header.
HUIQI_PUBLIC_URL = os.environ.get("HUIQI_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("HUIQI_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "rules",
    "huiqi.core",
    "huiqi.site",
    "huiqi.accounts",
    "huiqi.registry",
    "huiqi.lending",
    "huiqi.subsidy",
    "huiqi.requests",
    "huiqi.resumption",
    "huiqi.pool",
    "huiqi.policies",
    "huiqi.fund",
    "huiqi.supplies",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "huiqi.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "huiqi.core.middleware.SlidingSessionMiddleware",
    "huiqi.core.locale.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before any view or process_view (CSRF's reads the body), after the user is known (for the page).
    "huiqi.core.middleware.RequestSizeLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "huiqi.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "huiqi.urls"
WSGI_APPLICATION = "huiqi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "huiqi.site.navigation.context",
            ],
        },
    },
]

_sqlite_path = DATA_DIR / "huiqi.sqlite3"
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL", default=f"sqlite:///{_sqlite_path}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL and a busy timeout let the in-process job worker write while pages read.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not the in-memory default: the browser tests' live server then has a connection of
    # its own instead of sharing the test thread's (one SQLite connection cannot serve two threads).
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-huiqi.sqlite3")}
else:
    # Test databases are made from template0 in UTF-8 so pg_trgm and collation see Chinese as text.
    DATABASES["default"]["TEST"] = {"TEMPLATE": "template0", "CHARSET": "UTF8"}
    # Job progress is written on a second connection so it shows while the job's own transaction runs.
    DATABASES["progress"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "huiqi.accounts.backends.LockoutModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Lock-out after repeated failed log-ins (per user name), see accounts.backends.
# Addresses of our own reverse proxies: only from them is X-Forwarded-For believed (core.throttling).
HUIQI_TRUSTED_PROXIES = [a.strip() for a in os.environ.get("HUIQI_TRUSTED_PROXIES", "").split(",") if a.strip()]
HUIQI_LOGIN_MAX_FAILURES = int(os.environ.get("HUIQI_LOGIN_MAX_FAILURES", "5"))
HUIQI_LOGIN_LOCK_MINUTES = int(os.environ.get("HUIQI_LOGIN_LOCK_MINUTES", "15"))
# An API token's lifetime in days, stored with each token when it is issued (and the most a user may ask).
HUIQI_API_TOKEN_DAYS = int(os.environ.get("HUIQI_API_TOKEN_DAYS", "90"))

# Secure sessions: HttpOnly cookies, SameSite, expiry on browser close and after 8 hours idle.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = 8 * 3600
# The idle clock restarts when a signed-in session is used, but the session is written at most once in
# this many seconds (huiqi.core.middleware.SlidingSessionMiddleware), not on every request.
HUIQI_SESSION_REFRESH_SECONDS = int(os.environ.get("HUIQI_SESSION_REFRESH_SECONDS", "300"))
_https = _flag("HUIQI_HTTPS")
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if _https:
    # Behind the HTTPS proxy: it says the scheme; plain HTTP is redirected; browsers remember it.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
HUIQI_CSP = os.environ.get("HUIQI_CSP", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
                           "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
                           "frame-ancestors 'none'")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Files a browser asks for at the site's root (/favicon.ico), served as they are.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
HUIQI_MAX_UPLOAD_BYTES = int(os.environ.get("HUIQI_MAX_UPLOAD_BYTES", str(512 * 1024 * 1024)))
# Uploads larger than this run as background jobs; smaller ones are handled in the request.
HUIQI_INLINE_IMPORT_BYTES = int(os.environ.get("HUIQI_INLINE_IMPORT_BYTES", str(2 * 1024 * 1024)))
# A set-based (PostgreSQL) import of at least this many rows locks the table against other writers
# for its write and checks its references once itself instead of by trigger (docs/decisions.md).
HUIQI_BULK_LOAD_ROWS = int(os.environ.get("HUIQI_BULK_LOAD_ROWS", "20000"))
# On PostgreSQL the interest subsidy reads the ledger from a columnar copy kept per version of the
# ledger (lending.snapshot); 0 reads the tables every time.
HUIQI_LEDGER_SNAPSHOT = _flag("HUIQI_LEDGER_SNAPSHOT", True)
# The embedded default runs the job worker inside `huiqi serve`; set 0 to run `huiqi worker` apart.
HUIQI_INPROCESS_WORKER = _flag("HUIQI_INPROCESS_WORKER", True)
# A running job's lease: renewed by its worker; once lapsed the job is taken over, and failed after
# HUIQI_JOB_MAX_ATTEMPTS runs in all (``core.jobs``).
HUIQI_JOB_LEASE_SECONDS = float(os.environ.get("HUIQI_JOB_LEASE_SECONDS", "120"))
HUIQI_JOB_MAX_ATTEMPTS = int(os.environ.get("HUIQI_JOB_MAX_ATTEMPTS", "2"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an unauthenticated call gets 401 with WWW-Authenticate, not 403.
        "huiqi.accounts.api_auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "huiqi.core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "huiqi.core.api.exception_handler",
}
API_DESCRIPTION = f"""The platform's REST API. Machine clients authenticate with `Authorization: Token <key>` (or
`Bearer <key>`).

**Tokens.** `POST /api/v1/auth/token/` exchanges a user name and password for a new token (a user may also
issue one on its account page, `/accounts/`). The key is shown once and only its digest is stored. A token
expires {HUIQI_API_TOKEN_DAYS} days after it is issued (`expires_at`; the deployment's `HUIQI_API_TOKEN_DAYS`),
and its owner or an administrator may revoke it at any time: `DELETE /api/v1/auth/tokens/{{id}}/`, the
account page, or the back office. An expired or revoked token is refused with 401 and the error code
`auth.token_expired` or `auth.token_revoked`; get a new one.

**Keep keys out of addresses.** Send the key in the `Authorization` header. Open311 clients send it as
`api_key` (in a POST body, or in the query string of a read, as the standard has it); the platform never
writes it to its logs or error reports, but proxies in between may log query strings.
"""

SPECTACULAR_SETTINGS = {
    "TITLE": "Huiqi 惠企 API",
    "DESCRIPTION": API_DESCRIPTION,
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name ("kind", "status") get a name of their own instead of a hash.
    "ENUM_NAME_OVERRIDES": {
        "EnterpriseKindEnum": "huiqi.registry.models.Enterprise.Kind",
        "LedgerUploadKindEnum": "huiqi.lending.models.LedgerUpload.Kind",
        "RegistryImportKindEnum": "huiqi.registry.models.RegistryImport.Kind",
        "StatusUploadKindEnum": "huiqi.fund.models.StatusUpload.Kind",
        "UploadStatusEnum": "huiqi.core.uploads.UploadRecord.Status",
    },
}

EMAIL_BACKEND = os.environ.get("HUIQI_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("HUIQI_FROM_EMAIL", "noreply@huiqi.example")
# The SMS gateway of request notifications: a class with send(phone, text) (huiqi.requests.notifications).
HUIQI_SMS_BACKEND = os.environ.get("HUIQI_SMS_BACKEND", "huiqi.requests.notifications.ConsoleSmsGateway")

# No log line and no error report carries a secret given in a query string or form (Open311's api_key):
# every handler redacts it (core.logs); `huiqi serve` gives gunicorn's access log the same treatment.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "huiqi.core.logs.RedactSecrets"},
                "no_403_traceback": {"()": "huiqi.core.logs.NoTracebackForForbidden"},
                "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "formatters": {"server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}",
                              "style": "{"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact"]},
        "server": {"class": "logging.StreamHandler", "formatter": "server", "filters": ["redact"]},
        "mail_admins": {"class": "django.utils.log.AdminEmailHandler", "level": "ERROR",
                        "filters": ["require_debug_false", "redact"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("HUIQI_LOG_LEVEL", "WARNING")},
    "loggers": {
        "huiqi": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        # An ordinary refusal (403) is logged in one line, without a traceback.
        "django.request": {"filters": ["no_403_traceback"]},
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},  # runserver's access log
    },
}
DEFAULT_EXCEPTION_REPORTER = "huiqi.core.logs.ExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "huiqi.core.logs.ExceptionReporterFilter"
HUIQI_DEMO_PASSWORD = os.environ.get("HUIQI_DEMO_PASSWORD", "huiqi-demo-2020")
# A demo's fixed business day, YYYY-MM-DD (``core.clock``): forms' default dates, dashboards' "today" and
# business events fall on it, so a visitor's actions join the 2020 demo city. Unset in a real deployment.
HUIQI_DEMO_TODAY = os.environ.get("HUIQI_DEMO_TODAY", "").strip() or None
if HUIQI_DEMO_TODAY:
    import datetime as _dt

    from django.core.exceptions import ImproperlyConfigured

    try:
        _dt.date.fromisoformat(HUIQI_DEMO_TODAY)
    except ValueError:
        raise ImproperlyConfigured(
            f"HUIQI_DEMO_TODAY={HUIQI_DEMO_TODAY!r} is not a date (YYYY-MM-DD)") from None
