"""A real Celery worker: started as a subprocess on the configured broker (Redis in CI, the
filesystem transport on the embedded default), pointed at the test database."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from cro_cmo.celery import app as celery_app
from cro_cmo.tasks import ping
from notifications.models import EventStatus, Notification, OutboxEvent
from notifications.services import event_emit
from notifications.tasks import deliver_outbox
from tests.conftest import RUN_SUMMARY
from tests.factories import SponsorFactory, UserFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent


def worker_database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user, host, port = db.get("USER") or "postgres", db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"
    return f"sqlite:///{Path(db['NAME']).resolve()}"


@pytest.fixture
def worker():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": worker_database_url(),
        "VAR_DIR": str(settings.VAR_DIR),
    }
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    celery_app.control.purge()  # messages left by earlier runs would only slow this one down
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cro_cmo", "worker", "--pool=solo",
         "--without-gossip", "--without-mingle", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    yield process
    process.terminate()
    output, _ = process.communicate(timeout=30)
    print(output[-4000:])  # shown by pytest when a test fails


def test_worker_round_trip_through_the_broker(worker):
    broker = settings.REDIS_URL or "filesystem (embedded default)"
    answer = ping.delay("hello").get(timeout=90)
    assert answer == "pong:hello"
    RUN_SUMMARY.append(
        f"real Celery worker (pid {worker.pid}) on {broker} with {connection.vendor} answered {answer!r}"
    )


def test_worker_delivers_the_outbox_into_notifications(worker):
    sponsor = SponsorFactory()
    user = UserFactory(sponsor=sponsor)
    event = event_emit("test.hello", title="Hello from the worker", sponsor=sponsor)
    delivered = deliver_outbox.delay().get(timeout=90)
    assert delivered in (0, 1)  # one event: this call or the on-commit kick delivered it; either way:
    event.refresh_from_db()
    assert event.status == EventStatus.DELIVERED
    assert Notification.objects.filter(event=event, user=user).count() == 1
    assert OutboxEvent.objects.filter(status=EventStatus.PENDING).count() == 0
