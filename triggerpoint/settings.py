"""One settings module for every environment, driven by environment variables.

Development defaults are safe and need nothing set; `TRIGGERPOINT_ENV=production`
turns on the deploy hardening and refuses to start without a real SECRET_KEY.
Typed helpers fail loudly on bad values instead of guessing.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TRIGGERPOINT_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# Under pytest (which sets PYTEST_VERSION) the default environment is "test".
TRIGGERPOINT_ENV = env_str("TRIGGERPOINT_ENV", "test" if os.environ.get("PYTEST_VERSION") else "development")
if TRIGGERPOINT_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured("TRIGGERPOINT_ENV must be development, test or production")
PRODUCTION = TRIGGERPOINT_ENV == "production"

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set in production")
    SECRET_KEY = "dev-only-insecure-key-" + "x" * 40  # noqa: S105 - development default, refused in production

# Off unless a developer asks (DEBUG=1): the demo that `scripts/run` serves is what a clinic sees, and Django's
# debug pages list every URL pattern and setting to whoever opens a record of another clinic.
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "ninja",  # serves the API docs' Swagger UI from our own static files (the strict CSP refuses CDNs and inline script)
    "django_tasks",
    "django_tasks_db",
    "triggerpoint.core",
    "triggerpoint.clinics",
    "triggerpoint.accounts",
    "triggerpoint.audit",
    "triggerpoint.patients",
    "triggerpoint.scheduling",
    "triggerpoint.atlas",
    "triggerpoint.assessment",
    "triggerpoint.screening",
    "triggerpoint.procedures",
    "triggerpoint.aftercare",
    "triggerpoint.followup",
    "triggerpoint.outcomes",
    "triggerpoint.billing",
    "triggerpoint.notifications",
    "triggerpoint.shell",
    "triggerpoint.fhir",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "triggerpoint.core.middleware.RequestContextMiddleware",
    "triggerpoint.audit.middleware.RefusalAuditMiddleware",  # inside the request context
    "triggerpoint.core.api_errors.ApiErrorShapeMiddleware",
    "triggerpoint.core.hostile_input.HostileInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "triggerpoint.core.middleware.IdleSessionTimeoutMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "triggerpoint.accounts.middleware.SnapshotOTPMiddleware",
    "triggerpoint.core.middleware.ActorContextMiddleware",
    "triggerpoint.core.middleware.ClinicTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "triggerpoint.urls"
WSGI_APPLICATION = "triggerpoint.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "triggerpoint" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "triggerpoint.shell.context_processors.shell",
            ],
        },
    },
]

# --- Database: embedded SQLite by default, PostgreSQL through DATABASE_URL ---
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "triggerpoint.sqlite3",
            # Reuse the connection across requests: opening one runs the PRAGMAs below.
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                # WAL lets readers proceed while the worker writes; IMMEDIATE avoids
                # "database is locked" upgrades from read to write transactions.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

# --- Shared cache: sessions, identity snapshots and reports, the same for every worker ---
# The database's own cache table (created by `migrate`), so every process and host sees one cache.
# Never a per-process cache: a revoked role or a signed-out session must end in every worker
# (the deploy check triggerpoint.E001 refuses one).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "triggerpoint_cache",
        "OPTIONS": {"MAX_ENTRIES": env_int("CACHE_MAX_ENTRIES", 100_000)},
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# How long a user's identity snapshot (clinic, roles, devices) may be reused; model changes renew it at once.
IDENTITY_CACHE_SECONDS = env_int("IDENTITY_CACHE_SECONDS", 120)
# How long a chart timeline may be served from the cache; the chart's own writes renew it at once (patients/timeline.py).
TIMELINE_CACHE_SECONDS = env_int("TIMELINE_CACHE_SECONDS", 120)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "triggerpoint.accounts.backends.ClinicAwareBackend",
]
if TRIGGERPOINT_ENV == "test":
    # Tests create many users; a deliberately slow hash would dominate the suite's time.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S105 - test environment only
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Staff sessions expire after 30 minutes idle: activity pushes the expiry forward
# (at most once a minute, see IdleSessionTimeoutMiddleware, to avoid a write per page).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_TOUCH_INTERVAL = env_int("SESSION_TOUCH_SECONDS", 60)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Client address behind a load balancer (core/client_ip.py; README "Behind a load balancer"): the header your
# proxies write (e.g. X-Forwarded-For) and how many of them append to it. Empty: REMOTE_ADDR only.
TRUSTED_PROXY_HEADER = env_str("TRUSTED_PROXY_HEADER", "")
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1)

# Throttle failed logins (django-axes, accounts/throttle.py): the username+client pair is locked after
# LOGIN_FAILURES_PER_ACCOUNT failures, and the client itself after LOGIN_FAILURES_PER_CLIENT failures across
# all usernames (password spraying), for AXES_COOLOFF_MINUTES.
LOGIN_FAILURES_PER_ACCOUNT = env_int("AXES_FAILURE_LIMIT", 5)
LOGIN_FAILURES_PER_CLIENT = env_int("LOGIN_FAILURES_PER_CLIENT", 20)
AXES_FAILURE_LIMIT = "triggerpoint.accounts.throttle.failure_limit"
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_CLIENT_IP_CALLABLE = "triggerpoint.core.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "triggerpoint.accounts.views.lockout_response"
AXES_VERBOSE = False
AXES_ENABLED = env_bool("AXES_ENABLED", True)

OTP_TOTP_ISSUER = "Trigger Point Clinic"

# Strict Content-Security-Policy: no inline script or style anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "triggerpoint" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
CLINIC_DEFAULT_TIME_ZONE = env_str("CLINIC_DEFAULT_TIME_ZONE", "America/New_York")

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Outside production WhiteNoise serves straight from the apps' static folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# --- Email: SMTP from EMAIL_URL (smtp://user:pass@host:port), console in development ---
EMAIL_URL = env_str("EMAIL_URL")
if EMAIL_URL:
    from urllib.parse import unquote, urlparse

    _email = urlparse(EMAIL_URL)
    if _email.scheme not in {"smtp", "smtps", "submission"}:
        raise ImproperlyConfigured("EMAIL_URL must start with smtp://, smtps:// or submission://")
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email.hostname or "localhost"
    EMAIL_PORT = _email.port or (465 if _email.scheme == "smtps" else 587 if _email.scheme == "submission" else 25)
    EMAIL_HOST_USER = unquote(_email.username or "")
    EMAIL_HOST_PASSWORD = unquote(_email.password or "")
    EMAIL_USE_SSL = _email.scheme == "smtps"
    EMAIL_USE_TLS = _email.scheme == "submission"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Trigger Point Clinic <no-reply@clinic.example>")
SMS_GATEWAY = env_str("SMS_GATEWAY", "triggerpoint.notifications.gateways.RecordingSmsGateway")

# --- Background work: django-tasks with the database backend ---
TASKS = {
    "default": {
        # Tests use the dummy backend and drive delivery explicitly (deliver / deliver_due),
        # so timing is deterministic; the worker itself runs the same service functions.
        "BACKEND": env_str(
            "TASKS_BACKEND",
            "django_tasks.backends.dummy.DummyBackend" if TRIGGERPOINT_ENV == "test" else "django_tasks_db.DatabaseBackend",
        ),
    }
}

# --- FHIR Bulk Data export (fhir/bulk_export.py): where the NDJSON files go and how long they live ---
FHIR_EXPORT_DIR = Path(env_str("FHIR_EXPORT_DIR", str(VAR_DIR / "fhir-export")))
FHIR_EXPORT_TTL_HOURS = env_int("FHIR_EXPORT_TTL_HOURS", 24)  # files are deleted this long after completion
FHIR_EXPORT_STALE_MINUTES = env_int("FHIR_EXPORT_STALE_MINUTES", 10)  # no heartbeat this long: the job is failed
FHIR_EXPORT_QUEUE_MINUTES = env_int("FHIR_EXPORT_QUEUE_MINUTES", 60)  # never started this long: the job is failed
FHIR_EXPORT_ONE_PER_CLIENT = env_str("FHIR_EXPORT_ONE_PER_CLIENT", "1") == "1"  # a second kick-off meanwhile: 429
FHIR_EXPORT_CHUNK = env_int("FHIR_EXPORT_CHUNK", 500)  # rows read per database round trip
FHIR_EXPORT_FILE_MAX_RESOURCES = env_int("FHIR_EXPORT_FILE_MAX_RESOURCES", 100_000)  # lines per file part

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# Public base URL used in links sent by email/SMS (tokenised patient links).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
