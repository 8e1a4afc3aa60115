"""Strict environment parsing: a malformed variable stops start-up with a message naming it.

The subprocess tests start Django exactly as production does (``cro_cmo.settings``) with a
minimal environment, so nothing from the developer's shell leaks in; VAR_DIR points at a
temporary folder so the repository's ``var/`` is never touched.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from cro_cmo import env

REPO = Path(__file__).resolve().parent.parent
SETUP = "import django; django.setup()"
SETUP_AND_PRINT = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], s.AXES_FAILURE_LIMIT)"
)


def run_django(tmp_path, code=SETUP, **variables):
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "DJANGO_SETTINGS_MODULE": "cro_cmo.settings",
        "VAR_DIR": str(tmp_path / "var"),
    }
    environment.update({name: value for name, value in variables.items() if value is not None})
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_improperly_configured(result, *needles):
    assert result.returncode != 0, result.stdout
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr, result.stderr
    last_line = result.stderr.strip().splitlines()[-1]
    for needle in needles:
        assert needle in last_line, result.stderr


# --- Start-up in a subprocess --------------------------------------------------------------------


def test_good_environment_starts(tmp_path):
    result = run_django(tmp_path, SETUP_AND_PRINT, DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
        "5",
    ]
    assert (tmp_path / "var").is_dir()  # VAR_DIR is honoured and created


def test_production_like_environment_starts_without_connecting(tmp_path):
    result = run_django(
        tmp_path,
        SETUP_AND_PRINT,
        DEBUG="false",
        SECRET_KEY="x" * 60,
        DATABASE_URL="postgres://app:secret@db.internal:5432/cro_cmo",
        REDIS_URL="redis://cache.internal:6379/0",
        AXES_FAILURE_LIMIT="7",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "django.db.backends.postgresql",
        "django.core.cache.backends.redis.RedisCache",
        "7",
    ]


@pytest.mark.parametrize("value", ["ture", "2", "enabled", "y e s"])
def test_malformed_debug_is_refused(tmp_path, value):
    assert_improperly_configured(run_django(tmp_path, DEBUG=value, SECRET_KEY="k" * 50), "DEBUG")


@pytest.mark.parametrize("value,expected", [("TRUE", "True"), (" yes ", "True"), ("on", "True"), ("0", "False")])
def test_debug_spellings_are_understood(tmp_path, value, expected):
    result = run_django(tmp_path, SETUP_AND_PRINT, DEBUG=value, SECRET_KEY="k" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == expected


@pytest.mark.parametrize(
    "value,needle",
    [
        ("mysql://x/y", "mysql"),
        ("postgres://host:notaport/db", "DATABASE_URL"),
        ("postgres://host:99999/db", "DATABASE_URL"),
        ("just-a-string", "scheme"),
    ],
)
def test_malformed_database_url_is_refused(tmp_path, value, needle):
    result = run_django(tmp_path, DEBUG="true", DATABASE_URL=value)
    assert_improperly_configured(result, "DATABASE_URL", needle)


def test_database_url_error_does_not_echo_the_password(tmp_path):
    result = run_django(tmp_path, DEBUG="true", DATABASE_URL="postgres://app:hunter2-s3cret@db:notaport/x")
    assert_improperly_configured(result, "DATABASE_URL")
    assert "hunter2-s3cret" not in result.stderr


@pytest.mark.parametrize("value", ["http://x", "memcached://cache:11211", "redis://:notaport", "redis://"])
def test_malformed_redis_url_is_refused(tmp_path, value):
    assert_improperly_configured(run_django(tmp_path, DEBUG="true", REDIS_URL=value), "REDIS_URL")


@pytest.mark.parametrize(
    "name,value",
    [
        ("AXES_FAILURE_LIMIT", "five"),
        ("AXES_FAILURE_LIMIT", "5.5"),
        ("AXES_COOLOFF_MINUTES", "half an hour"),
        ("MEMBER_INVITE_DAYS", "7d"),
        ("SECURE_HSTS_SECONDS", "one year"),
        ("HTTPS", "maybe"),
        ("CELERY_TASK_ALWAYS_EAGER", "sometimes"),
        ("DB_CONN_MAX_AGE", "forever"),
        ("DB_RANDOM_PAGE_COST", "cheap"),
    ],
)
def test_malformed_number_or_switch_is_refused(tmp_path, name, value):
    variables = {"DEBUG": "true", name: value}
    if name.startswith("DB_"):  # only read when DATABASE_URL is set
        variables["DATABASE_URL"] = "postgres://db:5432/x"
    assert_improperly_configured(run_django(tmp_path, **variables), name)


@pytest.mark.parametrize(
    ("url", "variables", "expected"),
    [
        ("postgres://db:5432/x", {}, "-c random_page_cost=1.1"),
        ("postgres://db:5432/x", {"DB_RANDOM_PAGE_COST": "2"}, "-c random_page_cost=2.0"),
        ("postgres://db:5432/x", {"DB_RANDOM_PAGE_COST": "off"}, "None"),  # e.g. behind PgBouncer
        (
            "postgres://db:5432/x?options=-c%20statement_timeout%3D5000",
            {},
            "-c statement_timeout=5000 -c random_page_cost=1.1",
        ),
        ("sqlite:////tmp/x.sqlite3", {}, "None"),
    ],
)
def test_postgresql_sessions_price_random_reads_for_ssds(tmp_path, url, variables, expected):
    code = f"{SETUP}; from django.conf import settings as s; print(s.DATABASES['default'].get('OPTIONS', {{}}).get('options'))"
    result = run_django(tmp_path, code, DEBUG="true", DATABASE_URL=url, **variables)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_malformed_email_port_is_refused_for_smtp(tmp_path):
    result = run_django(
        tmp_path, DEBUG="true", EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_PORT="smtp"
    )
    assert_improperly_configured(result, "EMAIL_PORT")


def test_email_tls_and_ssl_together_are_refused(tmp_path):
    result = run_django(
        tmp_path,
        DEBUG="true",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_USE_TLS="true",
        EMAIL_USE_SSL="true",
    )
    assert_improperly_configured(result, "EMAIL_USE_TLS", "EMAIL_USE_SSL")


@pytest.mark.parametrize("debug", ["false", None])
@pytest.mark.parametrize("secret", [None, "", "   "])
def test_missing_secret_key_without_debug_is_refused(tmp_path, debug, secret):
    result = run_django(tmp_path, DEBUG=debug, SECRET_KEY=secret)
    assert_improperly_configured(result, "SECRET_KEY")


def test_missing_secret_key_is_allowed_in_debug(tmp_path):
    result = run_django(tmp_path, "import django; django.setup(); from django.conf import settings as s; "
                        "print(bool(s.SECRET_KEY))", DEBUG="true")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


# --- cro_cmo/env.py, function by function --------------------------------------------------------


VAR = "CRO_CMO_TEST_VARIABLE"


@pytest.fixture
def setvar(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)

    def set_(value):
        monkeypatch.setenv(VAR, value)

    return set_


@pytest.mark.parametrize("value", [None, "", "   "])
def test_unset_or_blank_means_default(setvar, value):
    if value is not None:
        setvar(value)
    assert env.env_str(VAR, "fallback") == "fallback"
    assert env.env_bool(VAR, True) is True
    assert env.env_bool(VAR, False) is False
    assert env.env_int(VAR, 42) == 42
    assert env.env_list(VAR, ["a"]) == ["a"]
    assert env.env_url(VAR, {"redis"}) is None


def test_env_str_strips_whitespace(setvar):
    setvar("  value with inner space  ")
    assert env.env_str(VAR) == "value with inner space"


@pytest.mark.parametrize("value", ["1", "true", "True", "YES", "on", " On "])
def test_env_bool_true_values(setvar, value):
    setvar(value)
    assert env.env_bool(VAR, False) is True


@pytest.mark.parametrize("value", ["0", "false", "FALSE", "no", "off", " Off "])
def test_env_bool_false_values(setvar, value):
    setvar(value)
    assert env.env_bool(VAR, True) is False


@pytest.mark.parametrize("value", ["ture", "2", "-1", "t", "f", "none", "null", "enabled"])
def test_env_bool_rejects_anything_else_naming_the_variable(setvar, value):
    setvar(value)
    with pytest.raises(ImproperlyConfigured, match=VAR) as info:
        env.env_bool(VAR, False)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("value,expected", [("42", 42), (" 7 ", 7), ("-3", -3), ("0", 0)])
def test_env_int_parses_whole_numbers(setvar, value, expected):
    setvar(value)
    assert env.env_int(VAR, 1) == expected


@pytest.mark.parametrize("value", ["five", "5.5", "1e3", "0x10", "5 minutes"])
def test_env_int_rejects_non_integers_naming_the_variable(setvar, value):
    setvar(value)
    with pytest.raises(ImproperlyConfigured, match=VAR):
        env.env_int(VAR, 1)


def test_env_list_splits_on_commas_and_drops_blanks(setvar):
    setvar(" cro.example.com, ,www.cro.example.com,, [::1] ")
    assert env.env_list(VAR, []) == ["cro.example.com", "www.cro.example.com", "[::1]"]


def test_env_list_default_is_a_copy(setvar):
    default = ["localhost"]
    result = env.env_list(VAR, default)
    result.append("evil.example")
    assert default == ["localhost"]


@pytest.mark.parametrize(
    "value,schemes",
    [
        ("postgres://user:pw@db.example:5432/app", {"postgres", "postgresql"}),
        ("postgresql://db/app", {"postgres", "postgresql"}),
        ("sqlite:////var/lib/app/db.sqlite3", {"postgres", "sqlite"}),
        ("redis://cache:6379/0", {"redis", "rediss"}),
        ("rediss://:pw@cache.example:6380/1", {"redis", "rediss"}),
    ],
)
def test_env_url_accepts_good_urls_unchanged(setvar, value, schemes):
    setvar(value)
    assert env.env_url(VAR, schemes) == value


@pytest.mark.parametrize(
    "value,schemes,needle",
    [
        ("mysql://x/y", {"postgres"}, "scheme"),
        ("http://x", {"redis", "rediss"}, "'http'"),
        ("db.example:5432/app", {"postgres"}, "scheme"),
        ("postgres://host:notaport/db", {"postgres"}, "not a valid URL"),
        ("postgres://host:70000/db", {"postgres"}, "not a valid URL"),
        ("redis://", {"redis"}, "no host"),
    ],
)
def test_env_url_rejects_bad_urls_naming_the_variable(setvar, value, schemes, needle):
    setvar(value)
    with pytest.raises(ImproperlyConfigured, match=VAR) as info:
        env.env_url(VAR, schemes)
    assert needle in str(info.value)
