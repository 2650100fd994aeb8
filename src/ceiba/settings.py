"""Django settings. Every knob is a CEIBA_* environment variable, parsed by ceiba.config."""

from __future__ import annotations

import contextlib
from urllib.parse import unquote, urlparse

from ceiba import config as _config
from ceiba.i18n import LANGUAGES

CONFIG = _config.load()

BASE_DIR = CONFIG.base_dir
VAR_DIR = CONFIG.var_dir
CEIBA_MODE = CONFIG.mode
DEBUG = CONFIG.debug
SECRET_KEY = CONFIG.secret_key
ALLOWED_HOSTS = CONFIG.allowed_hosts

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "huey.contrib.djhuey",
    "ninja",
    "ceiba.tenancy",
    "ceiba.accounts",
    "ceiba.soc",
    "ceiba.documents",
    "ceiba.ledger",
    "ceiba.catalog",
    "ceiba.cases",
    "ceiba.notify",
    "ceiba.web",
]

MIDDLEWARE = [
    "ceiba.web.middleware.ProbeMiddleware",
    "ceiba.web.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "ceiba.tenancy.middleware.AdministrationMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ceiba.accounts.middleware.TenantSessionGuard",
    "django_otp.middleware.OTPMiddleware",
    "ceiba.web.middleware.AdministrationLanguageMiddleware",
    "ceiba.accounts.middleware.StaffTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ceiba.web.middleware.PermissionDeniedEventMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ceiba.urls"
WSGI_APPLICATION = "ceiba.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "ceiba.web.context_processors.platform",
            ],
        },
    }
]

DATABASES = {"default": CONFIG.database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "ceiba.accounts.backends.AdministrationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"
# Users are unique per administration, not globally; the tenant-aware backend enforces it.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]

# Lockout: 5 failures for the same account from the same address lock it for 30 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "ceiba.accounts.backends.axes_username"
AXES_LOCKOUT_CALLABLE = "ceiba.accounts.views.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "ceiba.web.clientip.client_ip"
CEIBA_TRUSTED_PROXIES = CONFIG.trusted_proxies

OTP_TOTP_ISSUER = "Ceiba"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Sessions and cookies.
SESSION_COOKIE_SECURE = CONFIG.secure_cookies
CSRF_COOKIE_SECURE = CONFIG.secure_cookies
LANGUAGE_COOKIE_SECURE = CONFIG.secure_cookies
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_NAME = "ceiba_session" if not CONFIG.secure_cookies else "__Host-ceiba_session"
CSRF_COOKIE_NAME = "ceiba_csrf" if not CONFIG.secure_cookies else "__Host-ceiba_csrf"
CSRF_FAILURE_VIEW = "ceiba.web.views.csrf_failure"

# Security headers.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if CONFIG.production:
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Internationalization.
LANGUAGE_CODE = CONFIG.language_code
LANGUAGES = LANGUAGES
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = CONFIG.time_zone
LANGUAGE_COOKIE_NAME = "ceiba_language"

# Files.
STATIC_URL = "/static/"
STATIC_ROOT = CONFIG.static_root
MEDIA_URL = "/media/"
MEDIA_ROOT = CONFIG.media_root
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if CONFIG.production
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not CONFIG.production
for _directory in (VAR_DIR, STATIC_ROOT, MEDIA_ROOT):
    # A read-only mount is the operator's choice; Django reports real problems later.
    with contextlib.suppress(OSError):
        _directory.mkdir(parents=True, exist_ok=True)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Background jobs: huey on SQLite by default, on Redis when CEIBA_REDIS_URL is set.
if CONFIG.redis_url:
    import redis

    HUEY = {
        "huey_class": "huey.PriorityRedisHuey",
        "name": "ceiba",
        # Timeouts: an unreachable Redis must fail a request or probe fast, not hang it.
        "connection_pool": redis.ConnectionPool.from_url(
            CONFIG.redis_url, socket_connect_timeout=3, socket_timeout=10
        ),
        "immediate": False,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "ceiba",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": False,
    }

# Email: SMTP when CEIBA_EMAIL_URL is set, otherwise written to files under var/mail.
DEFAULT_FROM_EMAIL = CONFIG.email_from
EMAIL_TIMEOUT = 15
SERVER_EMAIL = CONFIG.email_from
if CONFIG.email_url and CONFIG.email_url.startswith("console"):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
elif CONFIG.email_url:
    _email = urlparse(CONFIG.email_url)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email.hostname or "localhost"
    EMAIL_PORT = _email.port or (465 if _email.scheme == "smtps" else 587)
    EMAIL_HOST_USER = unquote(_email.username or "")
    EMAIL_HOST_PASSWORD = unquote(_email.password or "")
    EMAIL_USE_SSL = _email.scheme == "smtps"
    # STARTTLS on every smtp:// URL unless the operator opts out with ?tls=off.
    EMAIL_USE_TLS = _email.scheme == "smtp" and "tls=off" not in (_email.query or "")
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")

# Logging: one line per record; JSON in production, with the request id on every line.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "ceiba.web.logging.RequestIdFilter"},
        "redact": {"()": "ceiba.web.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": CONFIG.log_format,
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": CONFIG.log_level},
    "loggers": {
        # Replace Django's own console handler: every line goes through ours (format, request
        # id, redaction).
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_PER_PAGE = 50
