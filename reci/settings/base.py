"""Settings shared by every environment. Every deployment choice comes from the environment."""

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(env_str("RECI_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    # Wagtail (case studies and content pages grow here)
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    # accounts
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # API and background work
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_results",
    "django_celery_beat",
    # ours
    "reci",
    "cities",
    "twins",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "reci.urls"
WSGI_APPLICATION = "reci.wsgi.application"
ASGI_APPLICATION = "reci.asgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "reci" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "cities.context_processors.network",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'reci.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The demo's web server and worker share the file: wait for each other's locks (timeout).
    # A transaction takes the write lock when it begins (IMMEDIATE): one that read first and
    # wrote later would fail at once with "database is locked" when another did the same (two
    # quick clicks on RSVP), as SQLite does not wait on a lock upgrade. WAL lets pages read
    # while a transaction writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=30, transaction_mode="IMMEDIATE", init_command="PRAGMA journal_mode=WAL;"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# allauth 65: login by e-mail, verified addresses only.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
# E-mail addresses are unique regardless of case; reset mails go to verified addresses only.
ACCOUNT_ADAPTER = "cities.adapters.AccountAdapter"
# allauth names the user ("Signed in as ...") by full name or e-mail address, not username.
ACCOUNT_USER_DISPLAY = "cities.adapters.user_display"
# A reset asked for an unknown (or unverified) address sends nothing: the page says the same.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
# Counted in the shared cache (CACHES below), so every web process sees the same attempts.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
}
# Behind a reverse proxy, the client's address is the n-th from the right of X-Forwarded-For.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("RECI_TRUSTED_PROXY_COUNT", 0)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "RECI"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
# The project's own strings, then django-allauth's Spanish in the formal register (usted), as the
# portal speaks everywhere (allauth's catalogue says tú in a few dozen of its strings), then the
# few messages of Django REST framework that its Spanish catalogue leaves in English.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "allauth", BASE_DIR / "locale" / "drf"]
TIME_ZONE = "Europe/Madrid"
# URLs typed without a scheme in forms are taken as https (the Django 6 default).
FORMS_URLFIELD_ASSUME_HTTPS = True
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("RECI_MEDIA_ROOT", str(VAR_DIR / "media")))

EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# The file backend's folder (DJANGO_EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend).
EMAIL_FILE_PATH = env_str("RECI_EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "RECI <no-reply@localhost>")

WAGTAIL_SITE_NAME = "RECI"
WAGTAILADMIN_BASE_URL = env_str("WAGTAILADMIN_BASE_URL", "http://localhost:8000")

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes a missing or wrong credential a 401, not a
    # 403. No Basic authentication: a password alone would skip the sign-in's second factor.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PARSER_CLASSES": [
        "reci.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "reci.exceptions.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "RECI portal API",
    "DESCRIPTION": "Cities, scenario packages and scenario runs of the smart-city network.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "PREPROCESSING_HOOKS": ["reci.schema.only_public_api"],
    # One name for a choice set that several fields share (technicians' and groups' areas).
    "ENUM_NAME_OVERRIDES": {
        "ExpertiseAreaEnum": "cities.models.ExpertiseArea",
        "LanguageEnum": "cities.models.Language",
    },
    # Swagger UI's files come from the installed sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

REDIS_URL = env_str("REDIS_URL")
# One cache for every process (rate limits, used TOTP codes): Redis when there is one,
# otherwise files, never per-process memory. The prefix keeps separate runs apart.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("RECI_CACHE_KEY_PREFIX", "reci"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "KEY_PREFIX": env_str("RECI_CACHE_KEY_PREFIX", "reci"),
        }
    }

# --- Celery -----------------------------------------------------------------
# A Redis URL when one is given; otherwise a file-system broker that needs no
# server, so that a laptop runs the demo with nothing installed.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "reci")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Crontab times are in CELERY_TIMEZONE (Madrid).
CELERY_BEAT_SCHEDULE = {
    "meeting-reminders": {
        "task": "cities.tasks.send_meeting_reminders",
        "schedule": crontab(minute=0),
    },
    "weekly-digest": {
        "task": "cities.tasks.send_weekly_digest",
        "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
    },
}
# A scenario run may take minutes on a city network; the soft limit is caught
# and recorded as the run's failure, the hard limit kills a stuck process.
TWINS_RUN_SOFT_TIME_LIMIT = env_int("TWINS_RUN_SOFT_TIME_LIMIT", 30 * 60, minimum=1)
TWINS_RUN_HARD_TIME_LIMIT = env_int(
    "TWINS_RUN_HARD_TIME_LIMIT", TWINS_RUN_SOFT_TIME_LIMIT + 60, minimum=2
)
# A running run's worker refreshes its heartbeat at least this often; a run whose
# heartbeat is older than the lease is taken over by a redelivered task.
TWINS_RUN_LEASE_SECONDS = env_int("TWINS_RUN_LEASE_SECONDS", 120, minimum=1)
# Redis redelivers an unacknowledged message after the visibility timeout: it
# must be longer than the hard limit, or a long run would be delivered twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int(
        "CELERY_VISIBILITY_TIMEOUT", TWINS_RUN_HARD_TIME_LIMIT + 300, minimum=1
    ),
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = Path(env_str("RECI_BROKER_DIR", str(VAR_DIR / "broker")))
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        {
            "data_folder_in": str(_broker_dir / "queue"),
            "data_folder_out": str(_broker_dir / "queue"),
            "control_folder": str(_broker_dir / "control"),
            "processed_folder": str(_broker_dir / "processed"),
            "store_processed": False,
        }
    )
    for _folder in ("queue", "control", "processed"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)

# Scenario packages: limits applied to every upload before anything is stored.
TWINS_PACKAGE_MAX_UPLOAD_BYTES = env_int("TWINS_PACKAGE_MAX_UPLOAD_BYTES", 200 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    # Django's own "django" logger prints to the console under DEBUG and passes the record on
    # to the root, which printed every refusal and error twice: the root prints it once.
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}},
}
