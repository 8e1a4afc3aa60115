"""Reliability of the background checks (issue #10 §5), proven with real workers and a real broker.

- ``kill -9`` of a worker in the middle of a check, then a restart: nothing lost, nothing twice;
- two workers running the whole check set at the same moment: each alert raised once;
- the broker (Redis) stopped: web requests that emit events still succeed at once, the outbox keeps
  the events, and they are delivered when Redis is back;
- a check that raises does not stop the others, is logged with its name and retried;
- every registered check has its beat entry, and beat runs them on the embedded default (no server).

"In the middle of a check" is made deterministic without any sleep in the product: the test holds a
lock the check needs (on PostgreSQL ``LOCK TABLE … IN EXCLUSIVE MODE``, seen from ``pg_stat_activity``
as the worker's backend waiting on it; on SQLite the write lock), so the worker is stuck inside the
check's transaction when it is killed.
"""

import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import kombu.pools
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert, AlertKind, Audience
from contracts.choices import ContractState, MilestoneState
from contracts.models import Milestone
from cro_cmo import checks as check_registry
from cro_cmo.celery import app as celery_app
from cro_cmo.checks import CheckOutcome, register_check, registered_checks, run_all_checks
from cro_cmo.tasks import run_check, run_checks
from notifications.models import EventStatus, Notification, OutboxEvent
from notifications.services import kick_delivery
from notifications.tasks import deliver_outbox
from tests.conftest import RUN_SUMMARY
from tests.factories import ContractFactory, MilestoneFactory
from tests.test_worker import ROOT, start_worker, stop_worker, worker_database_url, worker_output

MILESTONES = 400  # overdue milestones on one contract: one check raises as many alerts (and events)
WAIT = 60  # seconds any one wait on a worker may take before the test fails

# A check that fails on its first attempt and succeeds on the second; registered only in a worker
# started with FLAKY_CHECK_FILE set (``-I tests.test_check_reliability``), never in the test process.
FLAKY_CHECK = "reliability_flaky_check"
if os.environ.get("FLAKY_CHECK_FILE"):

    @register_check(FLAKY_CHECK)
    def _flaky_check() -> CheckOutcome:
        attempts = Path(os.environ["FLAKY_CHECK_FILE"])
        attempts.write_text(attempts.read_text() + "x" if attempts.exists() else "x")
        if len(attempts.read_text()) == 1:
            raise RuntimeError("first attempt fails on purpose")
        return CheckOutcome(name=FLAKY_CHECK, raised=["second attempt"])


# --- Helpers -------------------------------------------------------------------------------------------


def wait_until(condition, what: str, timeout: float = WAIT, diagnose=None, worker=None):
    """Poll ``condition`` until it returns something truthy; fail naming ``what`` after ``timeout``, or at
    once with its output if the ``worker`` we wait on has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"the worker exited while waiting for {what}:\n{worker_output(worker)[-3000:]}")
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}" + (f": {diagnose()}" if diagnose else ""))


def pg_activity() -> list[tuple]:
    """What the other backends of the test database are doing (shown when a wait times out)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, wait_event_type, wait_event, left(query, 120) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchall()


def overdue_milestones(count: int = MILESTONES) -> list[int]:
    """One active contract with ``count`` milestones three days overdue (bulk-created); their ids."""
    contract = ContractFactory(state=ContractState.ACTIVE, value=Decimal("100000000.00"))
    due = timezone.localdate() - timedelta(days=3)
    milestones = Milestone.objects.bulk_create(
        Milestone(contract=contract, position=i, name=f"Overdue {i}", due_date=due, baseline_due_date=due,
                  amount=Decimal("1.00"))
        for i in range(count)
    )  # fmt: skip
    return [m.pk for m in milestones]


def clean_broker():
    """Purge the queue, and on Redis the unacknowledged messages of earlier runs, which a worker with a
    short visibility timeout would otherwise redeliver into this test."""
    celery_app.control.purge()
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).delete("unacked", "unacked_index", "unacked_mutex")


@contextmanager
def holding_a_lock_the_check_needs(table: str):
    """From a connection of our own, hold a lock that stops a check's writes to ``table`` until the block
    ends: PostgreSQL ``LOCK TABLE … IN EXCLUSIVE MODE`` (reads go on, INSERT waits); SQLite the database's
    write lock (every write transaction waits)."""
    if connection.vendor == "postgresql":
        import psycopg

        with psycopg.connect(worker_database_url()) as conn:
            conn.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            yield
            conn.rollback()
    else:
        conn = sqlite3.connect(connection.settings_dict["NAME"], timeout=20, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()


def backends_waiting_to_write(table: str) -> int:
    """PostgreSQL: how many other backends wait on a lock with an INSERT into ``table`` running."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND wait_event_type = 'Lock' AND query ILIKE %s",
            [f"%INSERT INTO%{table}%"],
        )
        return cursor.fetchone()[0]


def backends_inside_a_check() -> int:
    """PostgreSQL: backends waiting on a lock inside a check, on its alert insert or on its turn."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND wait_event_type = 'Lock' AND (query ILIKE %s OR query ILIKE %s)",
            ["%INSERT INTO%alerts_alert%", "%pg_advisory_xact_lock%alerts.check:%"],
        )
        return cursor.fetchone()[0]


def has_the_database_open(pid: int) -> bool:
    """SQLite: the process has opened the database file (the check has begun its transaction)."""
    name = str(Path(connection.settings_dict["NAME"]).resolve())
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        return any(os.path.realpath(fd) == name for fd in fd_dir.iterdir())
    except (FileNotFoundError, PermissionError):
        return False


def wait_until_stuck_in_the_check(worker, task_id: str, table: str, workers: int = 1):
    """Wait until the worker(s) took the task and are blocked inside the check on the lock we hold."""
    wait_until(
        lambda: f"[{task_id}] received" in worker_output(worker), f"the worker to receive {task_id}", worker=worker
    )
    if connection.vendor == "postgresql":
        wait_until(lambda: backends_waiting_to_write(table) >= workers, f"{workers} backend(s) blocked on {table}")
    else:
        wait_until(lambda: has_the_database_open(worker.pid), "the worker to open the database inside the check")


def assert_each_alert_once_with_one_event():
    duplicates = list(
        Alert.objects.filter(resolved_at__isnull=True).values("kind", "key").annotate(n=Count("id")).filter(n__gt=1)
    )
    assert duplicates == []
    raised = OutboxEvent.objects.filter(event_type="alert_raised")
    alert_ids_of_events = sorted(raised.values_list("payload__alert_id", flat=True))
    assert alert_ids_of_events == sorted(Alert.objects.values_list("id", flat=True))


# --- kill -9 in the middle of a check --------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not settings.REDIS_URL,
    reason="Redis only: kombu's filesystem transport deletes a message when a worker reads it, so a worker "
    "killed whole loses it (the next beat run of the check catches up); the pool-process test below covers it",
)
def test_kill_9_of_the_worker_mid_check_then_a_restart_loses_nothing_and_duplicates_nothing():
    milestone_ids = overdue_milestones()
    clean_broker()
    first = start_worker()
    try:
        # The check inserts its alerts, then blocks on the outbox insert: killed right there.
        with holding_a_lock_the_check_needs("notifications_outboxevent"):
            result = run_check.delay("milestone_overdue")
            wait_until_stuck_in_the_check(first, result.id, "notifications_outboxevent")
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=WAIT)
        # The killed run's transaction never committed: no alert, no event.
        assert Alert.objects.count() == 0 and OutboxEvent.objects.count() == 0
    finally:
        stop_worker(first)
    # A new worker; the message the dead one held unacknowledged comes back after the visibility timeout.
    second = start_worker(CELERY_VISIBILITY_TIMEOUT="1")
    try:
        counts = result.get(timeout=WAIT)
    finally:
        output = stop_worker(second)
    assert counts == {"raised": MILESTONES, "escalated": 0, "resolved": 0}
    assert f"[{result.id}] received" in output  # the same message, redelivered
    alerts = Alert.objects.filter(kind=AlertKind.MILESTONE_OVERDUE, audience=Audience.SPONSOR)
    assert sorted(alerts.values_list("milestone_id", flat=True)) == milestone_ids
    assert_each_alert_once_with_one_event()
    RUN_SUMMARY.append(
        f"kill -9 mid-check: {MILESTONES} alerts raised once each after redelivery ({connection.vendor})"
    )


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_kill_9_of_the_pool_process_mid_check_is_rerun_and_duplicates_nothing():
    """The prefork worker (as ``scripts/run-embedded`` runs it): the process running the check dies, the
    worker rejects the late-acked message back to the queue and runs it again — on any broker."""
    milestone_ids = overdue_milestones()
    clean_broker()
    worker = start_worker("--pool=prefork", "--concurrency=1")
    try:
        with holding_a_lock_the_check_needs("notifications_outboxevent"):
            result = run_check.delay("milestone_overdue")
            wait_until(lambda: pool_child(worker), "the worker's pool process", worker=worker)
            child = pool_child(worker)
            child = wait_until_stuck_in_the_check_process(worker, child, result.id)
            os.kill(child, signal.SIGKILL)
            wait_until(lambda: "WorkerLostError" in worker_output(worker), "the worker to notice its lost process")
            assert Alert.objects.count() == 0 and OutboxEvent.objects.count() == 0
        counts = result.get(timeout=WAIT)
    finally:
        output = stop_worker(worker)
    assert "signal 9" in output
    assert counts == {"raised": MILESTONES, "escalated": 0, "resolved": 0}
    alerts = Alert.objects.filter(kind=AlertKind.MILESTONE_OVERDUE, audience=Audience.SPONSOR)
    assert sorted(alerts.values_list("milestone_id", flat=True)) == milestone_ids
    assert_each_alert_once_with_one_event()


def worker_children(worker) -> list[int]:
    """The worker's child processes (the prefork pool's; no beat here)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == worker.pid:
            children.append(int(stat.parent.name))
    return children


def pool_child(worker) -> int | None:
    """The prefork worker's pool process (its first child)."""
    return next(iter(worker_children(worker)), None)


def wait_until_stuck_in_the_check_process(worker, child: int, task_id: str) -> int:
    """Wait until the pool process is inside the check, blocked on our lock; return its pid (to kill)."""
    wait_until(
        lambda: f"[{task_id}] received" in worker_output(worker), f"the worker to receive {task_id}", worker=worker
    )
    if connection.vendor == "postgresql":
        wait_until(lambda: backends_waiting_to_write("notifications_outboxevent"), "the check blocked on the outbox")
        return child
    # Whichever child holds the database open is the one in the check (once, in CI, the first child found
    # early was not the process that ran the task, and the wait timed out while the check sat on the lock).
    return wait_until(
        lambda: next((pid for pid in worker_children(worker) if has_the_database_open(pid)), None),
        "a pool process to open the database inside the check",
    )


# --- Two workers at once ---------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_running_every_check_at_the_same_moment_raise_each_alert_once():
    milestone_ids = overdue_milestones()
    # Due soon too, so more than one check has something to raise.
    soon = MilestoneFactory(contract=ContractFactory(state=ContractState.ACTIVE), due_date=timezone.localdate())
    clean_broker()
    workers = [start_worker(), start_worker()]
    try:
        # Both take a full run and block on their first alert insert: then both go at the same moment.
        with holding_a_lock_the_check_needs("alerts_alert"):
            results = [run_checks.delay(), run_checks.delay()]
            # One waits on its INSERT, the other on the check's turn (the engine's advisory lock, which
            # it takes inside the same transaction): both are inside the same check at the same moment.
            wait_until(lambda: backends_inside_a_check() == 2, "both workers inside a check", diagnose=pg_activity)
        outcomes = [r.get(timeout=WAIT) for r in results]
    finally:
        outputs = [stop_worker(w) for w in workers]
    assert all(f"[{r.id}] received" in "".join(outputs) for r in results)
    for name in registered_checks():
        assert name in outcomes[0] and name in outcomes[1]
        assert not isinstance(outcomes[0][name], str) and not isinstance(outcomes[1][name], str), outcomes
    # Each alert was raised by exactly one of the two runs: the raised counts add up to the alerts.
    raised = {name: outcomes[0][name]["raised"] + outcomes[1][name]["raised"] for name in registered_checks()}
    assert raised["milestone_overdue"] == MILESTONES and raised["milestone_overdue_vendor"] == MILESTONES
    assert raised["milestone_due_soon"] == 1 and raised["milestone_due_soon_vendor"] == 1
    overdue = Alert.objects.filter(kind=AlertKind.MILESTONE_OVERDUE, audience=Audience.SPONSOR)
    assert sorted(overdue.values_list("milestone_id", flat=True)) == milestone_ids
    assert Alert.objects.filter(milestone=soon).count() == 2  # sponsor's and vendor's
    assert_each_alert_once_with_one_event()
    assert sum(sum(counts["raised"] for counts in o.values()) for o in outcomes) == Alert.objects.count()


# --- The broker down -------------------------------------------------------------------------------------


class OwnRedis:
    """A redis-server of our own on a spare port, to stop and start (never the shared one)."""

    def __init__(self, port: int, workdir: Path):
        self.port, self.workdir = port, workdir
        self.url = f"redis://127.0.0.1:{port}/0"

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True, timeout=10)

    def start(self):
        subprocess.run(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "yes", "--dir", str(self.workdir), "--pidfile", str(self.workdir / "redis.pid")],
            check=True, timeout=10,
        )  # fmt: skip
        wait_until(lambda: self.cli("ping").stdout.strip() == "PONG", f"redis-server on port {self.port}")

    def stop(self):
        self.cli("shutdown", "nosave")
        wait_until(lambda: self.cli("ping").returncode != 0, f"redis-server on port {self.port} to stop")


@pytest.fixture
def own_redis(tmp_path):
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        pytest.skip("needs redis-server and redis-cli to stop and start a Redis of its own")
    port = int(os.environ.get("RELIABILITY_REDIS_PORT", "6391"))
    server = OwnRedis(port, tmp_path)
    if server.cli("ping").returncode == 0:
        pytest.skip(f"port {port} is taken by another Redis: set RELIABILITY_REDIS_PORT")
    server.start()
    yield server
    server.cli("shutdown", "nosave")


def reset_celery_connections():
    """Drop the app's cached broker pool, producer pool and result backend, so new URLs take effect."""
    kombu.pools.reset()  # closes and forgets every pooled connection, so no closed pool is handed out again
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app._local.__dict__.pop("backend", None)


@contextmanager
def web_and_celery_on(redis_url: str):
    """The web side as production runs it with REDIS_URL: broker, results and cache on that Redis."""
    saved = celery_app.conf.broker_url, celery_app.conf.result_backend
    reset_celery_connections()
    celery_app.conf.broker_url = celery_app.conf.result_backend = redis_url
    try:
        cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
        with override_settings(CACHES=cache, REDIS_URL=redis_url):
            yield
    finally:
        reset_celery_connections()
        celery_app.conf.broker_url, celery_app.conf.result_backend = saved


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_a_request_that_emits_an_event_succeeds_at_once_and_is_delivered_later(
    own_redis, personas, client
):
    contract = ContractFactory(state=ContractState.ACTIVE, sponsor=personas.sponsor_a, vendor=personas.vendor_x)
    before, milestone = (MilestoneFactory(contract=contract, state=MilestoneState.SUBMITTED) for _ in range(2))
    client.force_login(personas.sponsor_a_admin)
    url = reverse("milestone-accept", args=[milestone.pk])
    with web_and_celery_on(own_redis.url):
        # The site is running (code imported, broker connection pooled) when Redis goes away.
        client.post(reverse("milestone-accept", args=[before.pk]), {"comment": "Fine"})
        own_redis.stop()
        started = time.monotonic()
        response = client.post(url, {"comment": "Looks good"})
        elapsed = time.monotonic() - started
        # The publish alone, as every request that emits an event makes it after its commit.
        started = time.monotonic()
        kick_delivery()
        publish = time.monotonic() - started
    assert response.status_code == 302 and response.url.endswith(f"#milestone-{milestone.pk}")
    milestone.refresh_from_db()
    assert milestone.state == MilestoneState.ACCEPTED
    event = OutboxEvent.objects.get(
        vendor=personas.vendor_x, title=f"Milestone accepted: {milestone.name} ({contract.number})"
    )
    assert event.status == EventStatus.PENDING and event.attempts == 0
    assert elapsed < 1.0, f"the request took {elapsed:.2f} s with the broker down"
    assert publish < 0.5, f"a publish to the dead broker took {publish:.2f} s"
    # Redis is back: a worker on it delivers what the outbox kept.
    own_redis.start()
    worker = start_worker(REDIS_URL=own_redis.url)
    try:
        with web_and_celery_on(own_redis.url):
            deliver_outbox.delay().get(timeout=WAIT)
    finally:
        stop_worker(worker)
    event.refresh_from_db()
    assert event.status == EventStatus.DELIVERED
    assert Notification.objects.filter(event=event, user=personas.vendor_x_admin).exists()
    assert OutboxEvent.objects.filter(status=EventStatus.PENDING).count() == 0
    RUN_SUMMARY.append(
        f"Redis stopped: milestone accepted in {elapsed * 1000:.0f} ms (publish gave up in {publish * 1000:.0f} ms);"
        " its event delivered once Redis was back"
    )


# --- A check that fails ----------------------------------------------------------------------------------


@pytest.fixture
def failing_check():
    """A registered check that always raises; removed from the registry afterwards."""
    name = "reliability_failing_check"

    @register_check(name)
    def failing() -> CheckOutcome:
        raise ZeroDivisionError("a bug in one check")

    yield name
    check_registry._REGISTRY.pop(name, None)


@pytest.mark.django_db
def test_a_failing_check_does_not_stop_the_others_and_is_logged_by_name(failing_check, caplog):
    overdue_milestones(3)
    with caplog.at_level(logging.ERROR, logger="cro_cmo.checks"):
        outcomes = {o.name: o for o in run_all_checks()}
    assert outcomes[failing_check].error == "ZeroDivisionError: a bug in one check"
    assert set(outcomes) == set(registered_checks())
    assert outcomes["milestone_overdue"].counts["raised"] == 3 and not outcomes["milestone_overdue"].error
    [record] = [r for r in caplog.records if r.exc_info]
    assert failing_check in record.getMessage() and record.exc_info[0] is ZeroDivisionError
    with pytest.raises(CommandError, match=f"1 check\\(s\\) failed: {failing_check} \\(the others ran\\)"):
        call_command("run_checks")


@pytest.mark.django_db(transaction=True)
def test_the_run_checks_command_exits_non_zero_naming_the_failed_check(tmp_path):
    """The command in a process of its own, with the flaky check failing its first attempt."""
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": worker_database_url(),
        "VAR_DIR": str(settings.VAR_DIR), "FLAKY_CHECK_FILE": str(tmp_path / "attempts"),
    }  # fmt: skip
    command = [sys.executable, "-c", "import django; django.setup(); import tests.test_check_reliability; "
               "from django.core.management import execute_from_command_line; "
               f"execute_from_command_line(['manage.py', 'run_checks', 'milestone_overdue', '{FLAKY_CHECK}'])"]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=WAIT)
    assert result.returncode != 0
    assert f"{FLAKY_CHECK}: FAILED — RuntimeError: first attempt fails on purpose" in result.stderr
    assert "milestone_overdue: raised 0" in result.stdout  # the other check ran


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_failing_check_task_is_logged_by_name_and_retried_until_it_succeeds(tmp_path):
    attempts = tmp_path / "attempts"
    clean_broker()
    worker = start_worker("-I", "tests.test_check_reliability", FLAKY_CHECK_FILE=str(attempts))
    try:
        counts = run_check.delay(FLAKY_CHECK).get(timeout=WAIT)
    finally:
        output = stop_worker(worker)
    assert counts == {"raised": 1, "escalated": 0, "resolved": 0}
    assert attempts.read_text() == "xx"  # failed once, retried once, succeeded
    assert f"Background check {FLAKY_CHECK} failed; retrying" in output
    assert "RuntimeError: first attempt fails on purpose" in output
    assert "retry: Retry in" in output


# --- Beat -------------------------------------------------------------------------------------------------


def test_every_registered_check_has_a_beat_entry_and_every_entry_a_check():
    checks = set(registered_checks())
    entries = {k: v for k, v in settings.CELERY_BEAT_SCHEDULE.items() if k.startswith("check-")}
    assert {f"check-{name}" for name in checks} == set(entries)
    for name in checks:
        entry = entries[f"check-{name}"]
        assert entry["task"] == "cro_cmo.tasks.run_check" and entry["args"] == (name,)
        assert entry["schedule"] == settings.CHECK_INTERVALS[name] > 0
    assert settings.CELERY_BEAT_SCHEDULE["deliver-outbox"]["task"] == "notifications.tasks.deliver_outbox"


def test_the_embedded_script_starts_beat_with_the_worker():
    script = (ROOT / "scripts" / "run-embedded").read_text()
    [worker_line] = [line for line in script.splitlines() if line.startswith('"$VENV/bin/celery"')]
    assert " worker --beat " in worker_line
    # The schedule file follows VAR_DIR (a fixed ./var path broke beat when VAR_DIR pointed elsewhere).
    assert "--schedule" not in script
    assert str(settings.VAR_DIR / "celery" / "beat-schedule") == settings.CELERY_BEAT_SCHEDULE_FILENAME


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_beat_runs_the_checks_with_the_worker_and_no_server(tmp_path):
    """As ``scripts/run-embedded`` starts it (worker with embedded beat); on the SQLite default run this
    is the filesystem broker and no server at all."""
    milestone_ids = overdue_milestones(5)
    clean_broker()
    worker = start_worker(
        "--pool=prefork", "--concurrency=1", "--beat", f"--schedule={tmp_path / 'beat-schedule'}",
        CHECKS_INTERVAL_SECONDS="1",
    )  # fmt: skip
    try:
        alerts = Alert.objects.filter(kind=AlertKind.MILESTONE_OVERDUE)
        wait_until(lambda: alerts.count() == 2 * len(milestone_ids), "beat's checks to raise the alerts")
        wait_until(lambda: "check-milestone_overdue" in worker_output(worker), "beat's log of the check")
    finally:
        output = stop_worker(worker)
    assert "beat: Starting" in output
    assert sorted(alerts.filter(audience=Audience.SPONSOR).values_list("milestone_id", flat=True)) == milestone_ids
    assert_each_alert_once_with_one_event()
    RUN_SUMMARY.append(f"beat in the worker raised the overdue alerts on {settings.CELERY_BROKER_URL.split(':')[0]}")
