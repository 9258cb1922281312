"""Mita's settings, read from the environment (see docs/configuration.md)."""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.conf import locale
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("MITA_VAR_DIR", BASE_DIR.parent / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one made once for this installation and kept in var/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
TESTING = env_bool("MITA_TESTING", False)

# Behind TLS in production: MITA_HTTPS=true turns on every secure-transport setting `check --deploy` asks for.
HTTPS = env_bool("MITA_HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("MITA_HSTS_SECONDS", "31536000")) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("MITA_BEHIND_PROXY", False) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "mita.core",
    "mita.notifications",
    "mita.accounts",
    "mita.registry",
    "mita.customers",
    "mita.ledger",
    "mita.payments",
    "mita.stock",
    "mita.metering",
    "mita.tariffs",
    "mita.servicing",
    "mita.billing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "mita.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mita.registry.middleware.WorkspaceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "mita.urls"
WSGI_APPLICATION = "mita.wsgi.application"

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
                "mita.registry.context_processors.shell",
            ],
        },
    }
]
FORM_RENDERER = "mita.core.forms.MitaFormRenderer"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'mita.sqlite3'}",
        conn_max_age=int(os.environ.get("MITA_DB_CONN_MAX_AGE", "60")),
        # Before each request's first query, a kept connection is checked: on PostgreSQL a look at its socket, and a
        # `SELECT 1` only when the server said something unasked (mita/core/postgresql). Off, the first request after
        # a database restart fails once and its connection is replaced (docs/payments.md).
        conn_health_checks=env_bool("MITA_DB_CONN_HEALTH_CHECKS", True),
    )
}
# The hot paths' fixed statements are prepared by PostgreSQL once per connection (mita.core.prepared); switch off
# behind a connection pooler that does not keep prepared statements.
MITA_DB_PREPARED_STATEMENTS = env_bool("MITA_DB_PREPARED_STATEMENTS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with a health check that sends nothing while the connection is quiet (mita/core/postgresql).
    DATABASES["default"]["ENGINE"] = "mita.core.postgresql"
    if MITA_DB_PREPARED_STATEMENTS:
        # Django turns psycopg's preparing off (None); only its server-bound cursors prepare, and Django's own cursors
        # bind on the client, so this reaches mita.core.prepared's statements alone.
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process and the worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests use a file too (not memory), so that tests with real threads get SQLite's locking and busy timeout.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-mita.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["mita.accounts.backends.PhoneBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:  # Argon2 is slow on purpose; tests check behaviour, not hashing cost
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages: Kinyarwanda is not one of Django's own, so it is described here.
locale.LANG_INFO.setdefault("rw", {"bidi": False, "code": "rw", "name": "Kinyarwanda", "name_local": "Ikinyarwanda"})
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("rw", _("Kinyarwanda")),
    ("hi", _("Hindi")),
    ("pa", _("Punjabi")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "mita_language"
TIME_ZONE = os.environ.get("TIME_ZONE", "Africa/Kigali")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MITA_MEDIA_ROOT", VAR_DIR / "media"))
# The app serves its own assets from the installed packages; no CDN, no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Background work: django-tasks with its database backend; immediate in tests.
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if env_bool("MITA_TASKS_IMMEDIATE", False)
            else "django_tasks_db.DatabaseBackend"
        ),
        "QUEUES": ["default"],
    }
}

# Outgoing messages.
MITA_SMS_GATEWAY = os.environ.get("MITA_SMS_GATEWAY", "outbox")  # outbox | africastalking
MITA_AT_BASE_URL = os.environ.get("MITA_AT_BASE_URL", "http://127.0.0.1:8610")
MITA_AT_USERNAME = os.environ.get("MITA_AT_USERNAME", "sandbox")
MITA_AT_API_KEY = os.environ.get("MITA_AT_API_KEY", "fake-api-key")
MITA_AT_SENDER_ID = os.environ.get("MITA_AT_SENDER_ID", "")
MITA_AT_DELIVERY_SECRET = os.environ.get("MITA_AT_DELIVERY_SECRET", "")
MITA_AT_TIMEOUT_SECONDS = float(os.environ.get("MITA_AT_TIMEOUT_SECONDS", "10"))
MITA_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("MITA_OUTBOX_MAX_ATTEMPTS", "8"))
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Mita <no-reply@mita.local>")

# The licensing system (CLMS): `mita fake-clms` serves a fake on this address for the demo.
MITA_CLMS_BASE_URL = os.environ.get("MITA_CLMS_BASE_URL", "http://127.0.0.1:8620")
MITA_CLMS_TOKEN = os.environ.get("MITA_CLMS_TOKEN", "fake-clms-token")
MITA_CLMS_TIMEOUT_SECONDS = float(os.environ.get("MITA_CLMS_TIMEOUT_SECONDS", "10"))
# The land registry (parcels by UPI): `mita fake-land-registry` serves a fake on this address for the demo.
MITA_LAND_REGISTRY_BASE_URL = os.environ.get("MITA_LAND_REGISTRY_BASE_URL", "http://127.0.0.1:8660")
MITA_LAND_REGISTRY_API_KEY = os.environ.get("MITA_LAND_REGISTRY_API_KEY", "fake-land-registry-key")
MITA_LAND_REGISTRY_TIMEOUT_SECONDS = float(os.environ.get("MITA_LAND_REGISTRY_TIMEOUT_SECONDS", "10"))
MITA_LOGO_MAX_BYTES = int(os.environ.get("MITA_LOGO_MAX_BYTES", str(512 * 1024)))
MITA_CONTRACT_MAX_BYTES = int(os.environ.get("MITA_CONTRACT_MAX_BYTES", str(20 * 1024 * 1024)))
MITA_EXPIRY_WARNING_DAYS = 30

# Money: the standard VAT rate per country, as a decimal fraction.
MITA_VAT_RATES: dict[str, str] = {"RW": "0.18", "IN": "0.18"}

# Accounts.
# Processes a bill run's step shares its units among on PostgreSQL (docs/billing.md, "Speed"); 1 = in the task itself.
MITA_BILLRUN_WORKERS = int(os.environ.get("MITA_BILLRUN_WORKERS", "1"))
MITA_PUBLIC_URL = os.environ.get("MITA_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
MITA_DEFAULT_PHONE_REGION = os.environ.get("MITA_DEFAULT_PHONE_REGION", "RW")
MITA_LOGIN_MAX_FAILURES = 10
MITA_LOGIN_WINDOW_SECONDS = 15 * 60
MITA_RESET_CODE_TTL_SECONDS = 10 * 60
MITA_RESET_CODE_MAX_TRIES = 5
MITA_RESET_SENDS_PER_HOUR = 3
MITA_INVITATION_TTL_DAYS = 7

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("MITA_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
