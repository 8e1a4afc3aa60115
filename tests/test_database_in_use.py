"""Print which database and broker this run uses, and fail if CI asked for PostgreSQL but got SQLite."""

import os

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db


def test_runs_on_the_database_the_environment_names():
    print(
        f"database: {connection.vendor} ({connection.settings_dict['NAME']}); broker: {settings.CELERY_BROKER_URL.split('@')[-1]}"
    )
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        assert connection.vendor == "postgresql"
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            print(cursor.fetchone()[0])
    else:
        assert connection.vendor == "sqlite"
    if os.environ.get("REDIS_URL"):
        assert settings.CELERY_BROKER_URL.startswith("redis://")
