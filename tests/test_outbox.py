"""The transactional outbox: events survive only with their transaction, are delivered once each
to the people concerned (in-app and e-mail), retried on failure; and the notification API and pages."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.exceptions import NotAuthenticated

from accounts.models import Role
from notifications import services
from notifications.models import EventStatus, Notification, OutboxEvent
from notifications.services import event_emit, notifications_mark_read, outbox_deliver_pending
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FAILING = {"default": {"BACKEND": "tests.test_outbox.FailingBackend"}}
FAIL_ON_SECOND = {"default": {"BACKEND": "tests.test_outbox.FailOnSecondMessageBackend"}}


class FailingBackend(BaseEmailBackend):
    """An SMTP server that is down."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server unreachable")


class FailOnSecondMessageBackend(LocmemBackend):
    """Delivers the first message of the run, then the server goes away."""

    sent = 0

    def send_messages(self, messages):
        if FailOnSecondMessageBackend.sent >= 1:
            raise ConnectionResetError("SMTP connection lost")
        FailOnSecondMessageBackend.sent += 1
        return super().send_messages(messages)


def emit_for_sponsor_a(personas, **kwargs):
    kwargs.setdefault("title", "Milestone due soon")
    kwargs.setdefault("body", "M1 is due in 3 days.")
    kwargs.setdefault("url", "/contracts/1/")
    return event_emit("milestone_due_soon", sponsor=personas.sponsor_a, **kwargs)


def make_due_now(event):
    OutboxEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


# --- Writing events ----------------------------------------------------------------------------------


def test_an_event_emitted_in_a_rolled_back_transaction_leaves_nothing(personas, django_capture_on_commit_callbacks):
    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=False) as callbacks, pytest.raises(Boom), transaction.atomic():
        emit_for_sponsor_a(personas)
        assert OutboxEvent.objects.count() == 1  # visible inside the transaction
        raise Boom
    assert OutboxEvent.objects.count() == 0
    assert callbacks == []  # and no delivery was kicked
    assert outbox_deliver_pending() == 0
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_a_committed_event_is_pending_and_kicks_delivery_on_commit(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        event = emit_for_sponsor_a(personas)
    assert callbacks == [services.kick_delivery]
    event.refresh_from_db()
    assert event.status == EventStatus.PENDING
    assert event.attempts == 0
    assert Notification.objects.count() == 0  # nothing delivered before a worker runs


def test_an_event_needs_an_audience():
    with pytest.raises(ValueError):
        event_emit("orphan", title="Nobody")


# --- Delivering them ------------------------------------------------------------------------------


def test_delivery_notifies_each_active_user_of_the_sponsor_once(personas):
    gone = UserFactory(email="gone@a.test", sponsor=personas.sponsor_a, role=Role.MEMBER, is_active=False)
    event = emit_for_sponsor_a(personas)

    assert outbox_deliver_pending() == 1

    recipients = {personas.sponsor_a_admin, personas.sponsor_a_viewer}
    assert set(u for u in (n.user for n in Notification.objects.filter(event=event))) == recipients
    assert not Notification.objects.filter(user=gone).exists()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in recipients)
    assert all(len(m.to) == 1 for m in mail.outbox)  # one mail each, nobody sees the others
    message = mail.outbox[0]
    assert message.subject == "Milestone due soon"
    assert "M1 is due in 3 days." in message.body and "/contracts/1/" in message.body
    assert Notification.objects.filter(event=event, emailed_at__isnull=True).count() == 0

    event.refresh_from_db()
    assert event.status == EventStatus.DELIVERED
    assert event.delivered_at is not None
    assert event.attempts == 1


def test_delivery_to_a_sponsor_and_a_vendor_reaches_both_and_nobody_else(personas):
    event = event_emit(
        "milestone_overdue", title="Milestone overdue", sponsor=personas.sponsor_a, vendor=personas.vendor_x
    )
    outbox_deliver_pending()
    expected = {
        personas.sponsor_a_admin,
        personas.sponsor_a_viewer,
        personas.vendor_x_admin,
        personas.vendor_x_viewer,
    }
    assert {n.user for n in Notification.objects.filter(event=event)} == expected
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in expected)
    for outsider in (personas.sponsor_b_admin, personas.vendor_y_admin, personas.staff):
        assert not Notification.objects.filter(user=outsider).exists()


def test_delivery_to_a_vendor_only(personas):
    event_emit("certificate_expiring", title="GMP certificate expiring", vendor=personas.vendor_y)
    outbox_deliver_pending()
    assert [n.user for n in Notification.objects.all()] == [personas.vendor_y_admin]
    assert [m.to for m in mail.outbox] == [[personas.vendor_y_admin.email]]


def test_delivery_is_idempotent(personas):
    event = emit_for_sponsor_a(personas)
    assert outbox_deliver_pending() == 1
    notes, mails = Notification.objects.count(), len(mail.outbox)

    assert outbox_deliver_pending() == 0
    assert Notification.objects.count() == notes == 2
    assert len(mail.outbox) == mails == 2
    event.refresh_from_db()
    assert event.attempts == 1


def test_an_event_not_yet_due_is_left_for_later(personas):
    event = emit_for_sponsor_a(personas)
    OutboxEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert outbox_deliver_pending() == 0
    assert Notification.objects.count() == 0


def test_delivery_processes_several_events_in_one_run(personas):
    emit_for_sponsor_a(personas, title="One")
    emit_for_sponsor_a(personas, title="Two")
    event_emit("x", title="Three", sponsor=personas.sponsor_b)
    assert outbox_deliver_pending() == 3
    assert Notification.objects.count() == 5
    assert OutboxEvent.objects.filter(status=EventStatus.PENDING).count() == 0


def test_failed_email_keeps_the_event_pending_then_a_later_run_delivers_once(personas, settings):
    event = emit_for_sponsor_a(personas)
    settings.MAILERS = FAILING
    before = timezone.now()

    assert outbox_deliver_pending() == 0

    event.refresh_from_db()
    assert event.status == EventStatus.PENDING
    assert event.attempts == 1
    assert "ConnectionRefusedError" in event.last_error and "SMTP server unreachable" in event.last_error
    assert event.next_attempt_at > before + timedelta(seconds=30)
    assert event.delivered_at is None
    # In-app notifications stand even when e-mail fails; none is marked e-mailed.
    assert Notification.objects.filter(event=event).count() == 2
    assert not Notification.objects.filter(emailed_at__isnull=False).exists()
    assert mail.outbox == []

    # Not due yet: an immediate second run leaves it alone.
    assert outbox_deliver_pending() == 0
    event.refresh_from_db()
    assert event.attempts == 1

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    make_due_now(event)
    assert outbox_deliver_pending() == 1

    event.refresh_from_db()
    assert event.status == EventStatus.DELIVERED
    assert event.attempts == 2
    assert Notification.objects.filter(event=event).count() == 2
    assert len(mail.outbox) == 2
    assert outbox_deliver_pending() == 0
    assert Notification.objects.count() == 2 and len(mail.outbox) == 2


def test_one_failing_event_does_not_block_the_others(personas, settings):
    first = emit_for_sponsor_a(personas, title="First")
    settings.MAILERS = FAILING
    outbox_deliver_pending()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    second = emit_for_sponsor_a(personas, title="Second")
    assert outbox_deliver_pending() == 1  # the first is backing off, the second goes through
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (EventStatus.PENDING, EventStatus.DELIVERED)


def test_backoff_grows_and_delivery_gives_up_after_max_attempts(personas, settings):
    event = emit_for_sponsor_a(personas)
    settings.MAILERS = FAILING
    delays = []
    for _ in range(services.MAX_ATTEMPTS):
        make_due_now(event)
        now = timezone.now()
        outbox_deliver_pending()
        event.refresh_from_db()
        delays.append((event.next_attempt_at - now).total_seconds())
    assert delays == sorted(delays) and delays[0] < delays[-1]
    assert event.attempts == services.MAX_ATTEMPTS
    assert event.status == EventStatus.FAILED
    make_due_now(event)
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert outbox_deliver_pending() == 0  # given up: no longer picked
    assert mail.outbox == []


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_an_event_claimed_by_another_worker_is_skipped_not_delivered_twice(personas):
    # Created directly: in autocommit, event_emit's on-commit kick would publish to the real broker.
    event = OutboxEvent.objects.create(event_type="x", title="Claimed", sponsor=personas.sponsor_a)
    claimed, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                list(OutboxEvent.objects.select_for_update().filter(pk=event.pk))
                claimed.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert claimed.wait(timeout=30)
        assert outbox_deliver_pending() == 0  # skipped, not blocked
        assert Notification.objects.count() == 0
    finally:
        release.set()
        thread.join()
    assert outbox_deliver_pending() == 1
    assert Notification.objects.count() == 2


def test_a_retry_after_a_partial_email_failure_does_not_email_anyone_twice(personas, settings):
    event = emit_for_sponsor_a(personas)
    FailOnSecondMessageBackend.sent = 0
    settings.MAILERS = FAIL_ON_SECOND
    assert outbox_deliver_pending() == 0
    assert len(mail.outbox) == 1  # the first recipient did receive it

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    make_due_now(event)
    assert outbox_deliver_pending() == 1
    recipients = [m.to[0] for m in mail.outbox]
    assert sorted(recipients) == sorted({personas.sponsor_a_admin.email, personas.sponsor_a_viewer.email})


# --- The notification API ---------------------------------------------------------------------------


@pytest.fixture
def delivered(personas):
    """Two events delivered to sponsor A (admin and viewer) and one to sponsor B."""
    emit_for_sponsor_a(personas, title="A first")
    emit_for_sponsor_a(personas, title="A second")
    event_emit("x", title="B only", sponsor=personas.sponsor_b)
    outbox_deliver_pending()
    mail.outbox.clear()
    return personas


def test_api_lists_only_the_callers_notifications(delivered, api_client_for):
    p = delivered
    body = api_client_for(p.sponsor_a_admin).get("/api/v1/notifications/").json()
    assert body["count"] == 2
    mine = set(Notification.objects.filter(user=p.sponsor_a_admin).values_list("pk", flat=True))
    assert {row["id"] for row in body["results"]} == mine
    assert {row["title"] for row in body["results"]} == {"A first", "A second"}
    row = body["results"][0]
    assert row["event_type"] == "milestone_due_soon" and row["url"] == "/contracts/1/" and row["read_at"] is None

    body_b = api_client_for(p.sponsor_b_admin).get("/api/v1/notifications/").json()
    assert [row["title"] for row in body_b["results"]] == ["B only"]
    assert api_client_for(p.vendor_x_admin).get("/api/v1/notifications/").json()["count"] == 0


def test_api_unread_filter(delivered, api_client_for):
    p = delivered
    client = api_client_for(p.sponsor_a_admin)
    one = Notification.objects.filter(user=p.sponsor_a_admin, event__title="A first").get()
    notifications_mark_read(user=p.sponsor_a_admin, ids=[one.pk])

    unread = client.get("/api/v1/notifications/?unread=true").json()
    assert [row["title"] for row in unread["results"]] == ["A second"]
    read = client.get("/api/v1/notifications/?unread=false").json()
    assert [row["title"] for row in read["results"]] == ["A first"]
    assert client.get("/api/v1/notifications/").json()["count"] == 2


def test_api_mark_read_marks_only_the_callers_own(delivered, api_client_for):
    p = delivered
    mine = Notification.objects.filter(user=p.sponsor_a_admin, event__title="A first").get()
    colleagues = Notification.objects.filter(user=p.sponsor_a_viewer, event__title="A first").get()
    others = Notification.objects.filter(user=p.sponsor_b_admin).get()

    response = api_client_for(p.sponsor_a_admin).post(
        "/api/v1/notifications/mark-read/", {"ids": [mine.pk, colleagues.pk, others.pk]}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"marked": 1}
    mine.refresh_from_db()
    colleagues.refresh_from_db()
    others.refresh_from_db()
    assert mine.read_at is not None
    assert colleagues.read_at is None and others.read_at is None
    assert Notification.objects.filter(user=p.sponsor_a_admin, read_at__isnull=True).count() == 1


def test_api_mark_read_without_ids_marks_all_the_callers(delivered, api_client_for):
    p = delivered
    response = api_client_for(p.sponsor_a_admin).post("/api/v1/notifications/mark-read/", {}, format="json")
    assert response.json() == {"marked": 2}
    assert Notification.objects.filter(user=p.sponsor_a_admin, read_at__isnull=True).count() == 0
    assert Notification.objects.filter(read_at__isnull=True).count() == 3  # the viewer's two and B's one


def test_api_mark_read_rejects_malformed_ids(delivered, api_client_for):
    client = api_client_for(delivered.sponsor_a_admin)
    response = client.post("/api/v1/notifications/mark-read/", {"ids": "all"}, format="json")
    assert response.status_code == 400
    assert "ids" in response.json()
    assert Notification.objects.filter(read_at__isnull=False).count() == 0


def test_viewer_can_mark_their_own_notifications_read(delivered, api_client_for):
    p = delivered
    note = Notification.objects.filter(user=p.sponsor_a_viewer).first()
    response = api_client_for(p.sponsor_a_viewer).post(
        "/api/v1/notifications/mark-read/", {"ids": [note.pk]}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"marked": 1}
    note.refresh_from_db()
    assert note.read_at is not None


def test_another_users_notification_is_404(delivered, api_client_for):
    p = delivered
    colleagues = Notification.objects.filter(user=p.sponsor_a_viewer).first()
    mine = Notification.objects.filter(user=p.sponsor_a_admin).first()
    client = api_client_for(p.sponsor_a_admin)
    own = client.get(f"/api/v1/notifications/{mine.pk}/")
    assert own.status_code == 200
    assert own.json()["id"] == mine.pk and own.json()["title"] == mine.event.title
    response = client.get(f"/api/v1/notifications/{colleagues.pk}/")
    assert response.status_code == 404
    assert set(response.json()) == {"detail"}  # not the notification, not a hint of it
    assert colleagues.event.title not in response.content.decode()


def test_notifications_api_requires_authentication(delivered):
    from rest_framework.test import APIClient

    listed = APIClient().get("/api/v1/notifications/")
    assert listed.status_code == 401
    assert listed.json() == {"detail": NotAuthenticated.default_detail}
    marked = APIClient().post("/api/v1/notifications/mark-read/", {}, format="json")
    assert marked.status_code == 401
    assert marked.json() == {"detail": NotAuthenticated.default_detail}
    assert not Notification.objects.filter(read_at__isnull=False).exists()  # {} marks nothing for anybody


def test_notifications_cannot_be_created_through_the_api(delivered, api_client_for):
    client = api_client_for(delivered.sponsor_a_admin)
    client.raise_request_exception = False
    body = {"event_type": "forged", "title": "forged", "body": "forged", "url": "/x/", "payload": {}}
    response = client.post("/api/v1/notifications/", body, format="json")
    assert response.status_code == 405
    assert Notification.objects.filter(user=delivered.sponsor_a_admin).count() == 2


# --- The browser pages ------------------------------------------------------------------------------


def test_browser_lists_notifications_and_shows_the_unread_count(delivered, browser_client_for):
    p = delivered
    client = browser_client_for(p.sponsor_a_admin)
    page = client.get("/notifications/").content.decode()
    assert "A first" in page and "A second" in page
    assert "B only" not in page
    assert 'data-testid="unread-count">2<' in page

    response = client.post("/notifications/mark-read/")
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    assert Notification.objects.filter(user=p.sponsor_a_admin, read_at__isnull=True).count() == 0
    assert Notification.objects.filter(user=p.sponsor_a_viewer, read_at__isnull=True).count() == 2
    assert Notification.objects.filter(user=p.sponsor_b_admin, read_at__isnull=True).count() == 1

    page = client.get("/notifications/").content.decode()
    assert 'data-testid="unread-count"' not in page
    assert "A first" in page  # read ones stay listed


def test_browser_mark_read_of_one_notification(delivered, browser_client_for):
    p = delivered
    note = Notification.objects.filter(user=p.sponsor_a_admin, event__title="A first").get()
    client = browser_client_for(p.sponsor_a_admin)
    client.post("/notifications/mark-read/", {"id": [str(note.pk)]})
    assert list(Notification.objects.filter(user=p.sponsor_a_admin, read_at__isnull=False)) == [note]
    assert 'data-testid="unread-count">1<' in client.get("/dashboard/").content.decode()


def test_browser_mark_read_requires_post_and_login(delivered, client):
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/notifications/"
    anonymous_post = client.post("/notifications/mark-read/")
    assert anonymous_post.status_code == 302
    assert anonymous_post["Location"].startswith("/accounts/login/?next=")
    client.force_login(delivered.sponsor_a_admin, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get("/notifications/mark-read/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert not Notification.objects.filter(read_at__isnull=False).exists()  # neither request marked anything


def test_browser_mark_read_does_not_redirect_off_site(delivered, browser_client_for):
    client = browser_client_for(delivered.sponsor_a_admin)
    response = client.post("/notifications/mark-read/", {"next": "https://evil.example/phish"})
    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil.example")
