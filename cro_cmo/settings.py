"""Settings for cro_cmo, read from the environment (see .env.example).

With no environment at all the app runs on the embedded default: SQLite under ``var/`` and
Celery over kombu's filesystem transport, so a fresh clone needs no server. Production sets
DATABASE_URL (PostgreSQL), REDIS_URL (broker and cache), SECRET_KEY and the HTTPS settings.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from cro_cmo.env import env_bool, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.postgres",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_countries",
    "axes",
    "cro_cmo",
    "accounts",
    "audit",
    "notifications",
    "sponsors",
    "vendors",
    "contracts",
    "alerts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "cro_cmo.middleware.ApiNoStoreMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "cro_cmo.middleware_input.RejectUnstorableTextMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "audit.middleware.AuditActorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cro_cmo.urls"
WSGI_APPLICATION = "cro_cmo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cro_cmo.context_processors.navigation",
            ],
        },
    },
]

# --- Database: PostgreSQL is the database of record; SQLite is the embedded default. ---
DATABASE_URL = env_url("DATABASE_URL", {"postgres", "postgresql", "sqlite"})
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "cro_cmo.sqlite3",
            # The web server, the worker and beat share one file: wait for locks, don't fail.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
            "TEST": {"NAME": VAR_DIR / "test.sqlite3"},
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if IS_POSTGRES:
    # Index reads priced for SSDs (PostgreSQL's default 4.0 assumes spinning disks): with the default, a word
    # a third of the vendors hold was matched by a sequential scan of every search vector (16 ms at 10 000
    # vendors) instead of the GIN index (2 ms). Set per session, so no server or database change is needed;
    # "off" sends nothing (e.g. behind PgBouncer, which refuses start-up options: set it on the database).
    DB_RANDOM_PAGE_COST = env_str("DB_RANDOM_PAGE_COST", "1.1")
    if DB_RANDOM_PAGE_COST.lower() != "off":
        try:
            page_cost = float(DB_RANDOM_PAGE_COST)
        except ValueError:
            raise ImproperlyConfigured(
                f"DB_RANDOM_PAGE_COST={DB_RANDOM_PAGE_COST!r} is not a number or 'off'."
            ) from None
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c random_page_cost={page_cost}".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker and cache; unset means the embedded default (no server needed). ---
REDIS_URL = env_url("REDIS_URL", {"redis", "rediss"})
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery (see cro_cmo/celery.py). Tasks are idempotent, so late acks are safe. ---
CELERY_DATA_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A task taken by a worker that died (kill -9, lost host) is redelivered after this many seconds.
        # Keep it above the longest countdown/eta we use, or Redis redelivers a task that is still waiting.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 2 * 3600),
        # A Redis host that does not answer at all fails a connect in 0.4 s, not the OS's minutes.
        "socket_connect_timeout": env_int("CELERY_BROKER_CONNECT_TIMEOUT_MS", 400) / 1000,
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_RESULT_BACKEND = f"file://{CELERY_DATA_DIR / 'results'}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # In and out must be the same folder, or the worker never sees what the web server sends.
        "data_folder_in": str(CELERY_DATA_DIR / "queue"),
        "data_folder_out": str(CELERY_DATA_DIR / "queue"),
        "control_folder": str(CELERY_DATA_DIR / "control"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        "store_processed": False,
    }
    for _folder in ("queue", "control", "processed", "results"):
        (CELERY_DATA_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a request must not hang when the broker is down: the outbox sweep delivers later.
# One immediate retry (a dropped pooled connection), no pause: a request waits ~2 connects at most
# (tests/test_check_reliability.py measures it with Redis stopped).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BEAT_SCHEDULE_FILENAME = str(CELERY_DATA_DIR / "beat-schedule")
# --- Background checks (SPEC §4) ---
# Seconds between two runs of each check; every registered check must be named here (a test holds it).
# CHECKS_INTERVAL_SECONDS sets them all at once (e.g. 60 for a demo); each also reads CHECK_<NAME>_SECONDS.
_CHECK_DEFAULT_SECONDS = env_int("CHECKS_INTERVAL_SECONDS", 900)
CHECK_INTERVALS = {
    name: env_int(f"CHECK_{name.upper()}_SECONDS", _CHECK_DEFAULT_SECONDS)
    for name in (
        "milestone_due_soon", "milestone_due_soon_vendor", "milestone_overdue", "milestone_overdue_vendor",
        "budget_warning", "budget_exceeded", "burn_ahead_of_schedule", "contract_ending", "program_over_budget",
        "certificate_expiring", "certificate_expiring_sponsors", "certificate_expired",
        "certificate_expired_sponsors", "requalification_due", "rfp_deadline_approaching", "rfp_deadline_passed",
    )
}  # fmt: skip
# How long before expiry a vendor is told about its own certificate (sponsors set their own lead time).
CERTIFICATE_EXPIRING_DAYS = env_int("CERTIFICATE_EXPIRING_DAYS", 90)
CELERY_BEAT_SCHEDULE = {
    # Safety net: events whose on-commit kick was lost (broker down) are delivered here.
    "deliver-outbox": {"task": "notifications.tasks.deliver_outbox", "schedule": 60.0},
    # Daily digests go out at each user's chosen local time: a run every DIGEST_INTERVAL_SECONDS sends those due.
    "send-digests": {
        "task": "notifications.tasks.send_digests",
        "schedule": float(env_int("DIGEST_INTERVAL_SECONDS", 900)),
    },
    **{
        f"check-{name}": {"task": "cro_cmo.tasks.run_check", "schedule": float(seconds), "args": (name,)}
        for name, seconds in CHECK_INTERVALS.items()
    },
}

# --- Auth ---
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "landing"
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600
MEMBER_INVITE_DAYS = env_int("MEMBER_INVITE_DAYS", 7)

# django-axes: five wrong passwords for one account from one address lock it for half an hour.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The login form and authenticate() pass the e-mail as "username"; lower-case it so case tricks don't reset the count.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.lockout.attempted_email"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# X-Forwarded-For is trusted only through the proxies we run (0: none, the client is REMOTE_ADDR);
# one rule (accounts.network.client_ip) for axes' lock-out and DRF's throttles.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
AXES_CLIENT_IP_CALLABLE = "accounts.network.client_ip"
# API tokens expire this many days after they are issued (0: never; a user may pick another lifetime).
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90)
if API_TOKEN_DAYS < 0:
    raise ImproperlyConfigured("API_TOKEN_DAYS must be 0 (never expire) or more.")

# --- Internationalisation ---
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files: Bootstrap's built files committed in static/vendor/ (`make assets` refreshes them
# from npm), htmx from django-htmx, served by whitenoise. ---
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# --- Uploaded files (documents, certificates): local disk under MEDIA_ROOT by default; FILE_STORAGE=s3 puts
# them in an S3 (or S3-compatible) bucket through django-storages (`pip install '.[s3]'`). Either way they
# are served only through access-checked views that stream from storage.open(), never from a public URL:
# the bucket stays private, its URLs signed (querystring auth), and a name is never overwritten. ---
FILE_STORAGE = env_str("FILE_STORAGE", "local").lower()
if FILE_STORAGE == "local":
    _file_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif FILE_STORAGE == "s3":
    from importlib.util import find_spec

    if find_spec("storages") is None or find_spec("boto3") is None:
        raise ImproperlyConfigured("FILE_STORAGE=s3 needs django-storages and boto3: pip install '.[s3]'.")
    if not env_str("AWS_STORAGE_BUCKET_NAME"):
        raise ImproperlyConfigured("FILE_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME: the bucket that holds uploads.")
    _file_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME"),
            # Unset: AWS itself; else an S3-compatible service (MinIO, Ceph, R2…).
            "endpoint_url": env_url("AWS_S3_ENDPOINT_URL", {"http", "https"}),
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            # Unset keys: boto3 finds credentials itself (instance role, AWS_PROFILE, ~/.aws).
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            "location": env_str("AWS_LOCATION", ""),  # a key prefix inside the bucket
            "default_acl": None,  # the bucket's own (private) policy
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    raise ImproperlyConfigured(f"FILE_STORAGE={FILE_STORAGE!r}: use local (the default) or s3.")
STORAGES = {
    "default": _file_storage,
    "staticfiles": {
        "BACKEND": env_str("STATICFILES_STORAGE", "whitenoise.storage.CompressedManifestStaticFilesStorage")
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Content Security Policy (Django 6): no inline scripts anywhere. ---
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# --- HTTPS: one switch for production behind TLS, each setting overridable. ---
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
# The container healthcheck (scripts/healthcheck.py) probes plain HTTP from inside the container.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# --- E-mail (Django 6.1 MAILERS): console by default; SMTP in production. ---
EMAIL_BACKEND_PATH = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
_email_options = {}
if EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend"):
    _email_options = {
        "host": env_str("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 25),
        "username": env_str("EMAIL_HOST_USER"),
        "password": env_str("EMAIL_HOST_PASSWORD"),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "use_ssl": env_bool("EMAIL_USE_SSL", False),
        "timeout": env_int("EMAIL_TIMEOUT", 10),
    }
    if _email_options["use_tls"] and _email_options["use_ssl"]:
        raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on.")
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND_PATH, "OPTIONS": _email_options}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "cro_cmo <noreply@cro-cmo.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["cro_cmo.api.permissions.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "cro_cmo.api.filters.FilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # JSON only: the browsable API rendered write forms through code paths the API never runs
    # otherwise (a 500 for personas who cannot create); people read /api/docs/ instead.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON in, too (uploads declare multipart themselves): form encoding reads an empty value as "not
    # given", so `phase=` created a programme with the default phase instead of a 400.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "cro_cmo.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "cro_cmo.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "cro_cmo.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth": env_str("API_AUTH_THROTTLE", "20/min")},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "cro_cmo API",
    "DESCRIPTION": (
        "For procurement systems and integrations: the vendor directory (vendors, sites, service "
        "categories, capabilities, offerings, certifications), sponsors and their programmes, users and "
        "notifications, vendor qualifications and shortlists, and sourcing (RFPs, invitations, proposals "
        "and their state-transition actions). Contracts (milestones, change orders, invoices) are planned. "
        "Authenticate with `POST /api/v1/auth/token/` and send `Authorization: Token <token>`; lists "
        "filter, order (`ordering=`), paginate (`next`) and accept `updated_after` for incremental sync."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "CountryEnum": "cro_cmo.api.schema.COUNTRY_CHOICES",
        "CurrencyEnum": "cro_cmo.money.CURRENCY_CHOICES",
        "ContractKindEnum": "contracts.choices.ContractKind",
        "ContractStateEnum": "contracts.choices.ContractState",
        "MilestoneStateEnum": "contracts.choices.MilestoneState",
        "ChangeOrderStateEnum": "contracts.choices.ChangeOrderState",
        "InvoiceStateEnum": "contracts.choices.InvoiceState",
        "ContractSideEnum": "contracts.choices.Side",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
