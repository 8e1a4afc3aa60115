"""Test settings: the real settings, plus what only tests need (a fixed secret, fast hashing)."""

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production")
os.environ.setdefault("DEBUG", "false")
# Tests keep their SQLite file and filesystem broker apart from a running `make run`.
os.environ.setdefault("VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))

from cro_cmo.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# live_server serves static through finders, which cannot resolve manifest names.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405
# Serve static files from the finders (no collectstatic needed before tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Failures should show what failed, not every log line of axes and Django's request logger.
LOGGING["root"]["level"] = "ERROR"  # noqa: F405
LOGGING["loggers"].update({"axes": {"level": "ERROR"}, "django.request": {"level": "ERROR"}})  # noqa: F405
