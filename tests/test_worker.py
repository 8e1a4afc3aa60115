"""A real Celery worker: started as a subprocess on the configured broker (Redis in CI, the
filesystem transport on the embedded default), pointed at the test database."""

import os
import signal
import subprocess
import sys
import tempfile
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


def start_worker(*options: str, **env: str) -> subprocess.Popen:
    """A Celery worker subprocess on the test database and the configured broker (``options`` add to
    the command line, e.g. ``--pool=prefork``; ``env`` adds variables, e.g. a shorter visibility timeout)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": worker_database_url(),
        "VAR_DIR": str(settings.VAR_DIR),
        **({"REDIS_URL": settings.REDIS_URL} if settings.REDIS_URL else {}),
        **env,
    }
    pool = () if any(o.startswith("--pool") for o in options) else ("--pool=solo",)
    # The output goes to a file, not a pipe: a pipe nobody reads fills up and blocks a chatty worker.
    log = tempfile.NamedTemporaryFile("w+", prefix="worker-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cro_cmo", "worker", *pool,
         "--without-gossip", "--without-mingle", "--loglevel=INFO", *options],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    process.log_path = Path(log.name)
    log.close()
    return process


def worker_output(process: subprocess.Popen) -> str:
    return process.log_path.read_text(errors="replace")


def stop_worker(process: subprocess.Popen) -> str:
    """Stop the worker (if still running) and return its output (the end is printed when a test fails)."""
    if process.poll() is None:
        process.terminate()  # warm shutdown: finish the task in hand, then exit
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # Seen once in CI: a prefork worker whose pool process had been killed (the kill -9 test) still
            # running 30 s after SIGTERM, its task long done. What the test asserts already happened; stop
            # it cold (SIGQUIT), then its whole process group, and say so in the run's summary.
            RUN_SUMMARY.append(f"worker pid {process.pid} ignored SIGTERM for 30 s: stopped cold")
            process.send_signal(signal.SIGQUIT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
    output = worker_output(process)
    process.log_path.unlink(missing_ok=True)
    print(output[-4000:])
    return output


@pytest.fixture
def worker():
    celery_app.control.purge()  # messages left by earlier runs would only slow this one down
    process = start_worker()
    yield process
    stop_worker(process)


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
