"""E-mail preferences for notifications: immediate, a daily digest at the user's local time, or off.

Every e-mail is multipart (plain text and HTML) and links absolutely to the object and to the preferences.
The digest is claimed per user by a conditional UPDATE, so two runs (or two workers) send it once.
"""

import datetime
import threading
from datetime import UTC

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from accounts.models import Role
from notifications import services
from notifications.models import EmailMode, Notification, NotificationPreference, OutboxEvent
from notifications.services import (
    notification_preference_get,
    notification_preference_update,
    notifications_send_digests,
    outbox_deliver_pending,
)
from tests.factories import SponsorFactory, UserFactory

pytestmark = pytest.mark.django_db

LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
FAILING = {"default": {"BACKEND": "tests.test_outbox.FailingBackend"}}
# 07:30 UTC on a winter day: 08:30 in Zurich (UTC+1), 02:30 in New York (UTC-5).
MORNING_UTC = datetime.datetime(2027, 1, 15, 7, 30, tzinfo=UTC)


def deliver(sponsor, title="Milestone due soon", url="/contracts/7/", event_type="milestone_due_soon", **payload):
    OutboxEvent.objects.create(event_type=event_type, title=title, body="M1 is due in 3 days.", url=url,
                               sponsor=sponsor, payload=payload)  # fmt: skip
    return outbox_deliver_pending()


def prefer(user, mode, *, digest_time=datetime.time(8, 0), time_zone="Europe/Zurich"):
    return notification_preference_update(user=user, email_mode=mode, digest_time=digest_time, time_zone=time_zone)


def parts(message):
    """(plain text, HTML) of a multipart e-mail."""
    html = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    assert len(html) == 1
    return message.body, html[0]


@pytest.fixture
def team(db):
    """One sponsor with three people: one per e-mail mode."""
    sponsor = SponsorFactory(name="Acme", slug="acme")
    users = {mode: UserFactory(email=f"{mode}@acme.test", sponsor=sponsor, role=Role.MEMBER) for mode in EmailMode}
    prefer(users[EmailMode.DAILY_DIGEST], EmailMode.DAILY_DIGEST)
    prefer(users[EmailMode.OFF], EmailMode.OFF)
    return sponsor, users


# --- Preferences ---------------------------------------------------------------------------------


def test_a_preference_is_created_lazily_with_the_defaults(settings):
    settings.TIME_ZONE = "Europe/Zurich"
    user = UserFactory(email="new@acme.test")
    assert not NotificationPreference.objects.filter(user=user).exists()
    preference = notification_preference_get(user)
    assert (preference.email_mode, preference.digest_time, preference.time_zone) == (
        EmailMode.IMMEDIATE, datetime.time(8, 0), "Europe/Zurich",
    )  # fmt: skip
    assert notification_preference_get(user).pk == preference.pk  # one row per user


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc/passwd", "europe/zurich", "UTC\x00"])
def test_an_unknown_time_zone_is_refused_by_the_service(zone):
    from django.core.exceptions import ValidationError

    user = UserFactory(email="tz@acme.test")
    with pytest.raises(ValidationError) as refused:
        prefer(user, EmailMode.DAILY_DIGEST, time_zone=zone)
    assert "time_zone" in refused.value.message_dict
    assert notification_preference_get(user).time_zone != zone


# --- Delivery by mode ----------------------------------------------------------------------------


def test_immediate_emails_now_digest_and_off_only_notify_in_the_app(team, settings):
    settings.MAILERS = LOCMEM
    sponsor, users = team
    assert deliver(sponsor) == 1
    assert Notification.objects.filter(event__sponsor=sponsor).count() == 3  # everybody sees it in the app
    assert [m.to for m in mail.outbox] == [[users[EmailMode.IMMEDIATE].email]]
    emailed = dict(Notification.objects.values_list("user__email", "emailed_at"))
    assert emailed[users[EmailMode.IMMEDIATE].email] is not None
    assert emailed[users[EmailMode.DAILY_DIGEST].email] is None
    assert emailed[users[EmailMode.OFF].email] is None


def test_an_immediate_email_is_multipart_with_absolute_links_and_the_alert_severity(team, settings):
    settings.MAILERS = LOCMEM
    settings.SITE_URL = "https://cro.example"
    sponsor, _ = team
    deliver(sponsor, title="WO-00005 over budget", url="/contracts/5/", event_type="alert_raised",
            alert_id=1, kind="budget_exceeded", severity="critical")  # fmt: skip
    (message,) = mail.outbox
    assert message.subject == "[Critical] WO-00005 over budget"
    text, html = parts(message)
    assert "https://cro.example/contracts/5/" in text
    assert "https://cro.example/notifications/preferences/" in text
    assert 'href="https://cro.example/contracts/5/"' in html
    assert 'href="https://cro.example/notifications/preferences/"' in html
    assert "M1 is due in 3 days." in text and "M1 is due in 3 days." in html


def test_a_non_alert_event_has_no_severity_prefix_and_html_is_escaped(team, settings):
    settings.MAILERS = LOCMEM
    sponsor, _ = team
    deliver(sponsor, title="<b>Proposal</b> received", event_type="proposal_submitted", severity="critical")
    (message,) = mail.outbox
    assert message.subject == "<b>Proposal</b> received"  # a severity counts only on alert events
    text, html = parts(message)
    assert "<b>Proposal</b> received" in text
    assert "&lt;b&gt;Proposal&lt;/b&gt; received" in html and "<b>Proposal</b>" not in html


# --- The daily digest ----------------------------------------------------------------------------


@pytest.fixture
def two_zones(db, settings):
    """Two digest users at 08:00 local, one in Zurich and one in New York, each with two notifications."""
    settings.MAILERS = LOCMEM
    settings.SITE_URL = "https://cro.example"
    sponsor = SponsorFactory(name="Acme", slug="acme")
    zurich = UserFactory(email="zurich@acme.test", sponsor=sponsor)
    new_york = UserFactory(email="newyork@acme.test", sponsor=sponsor)
    prefer(zurich, EmailMode.DAILY_DIGEST, time_zone="Europe/Zurich")
    prefer(new_york, EmailMode.DAILY_DIGEST, time_zone="America/New_York")
    deliver(sponsor, title="Milestone M1 overdue", url="/contracts/1/", event_type="alert_raised", severity="warning")
    deliver(sponsor, title="Contract ending", url="/contracts/2/")
    assert mail.outbox == []
    return zurich, new_york


def test_the_digest_goes_out_only_once_the_local_time_has_passed_in_each_zone(two_zones):
    zurich, new_york = two_zones
    assert notifications_send_digests(now=MORNING_UTC - datetime.timedelta(hours=1)) == 0  # 07:30 in Zurich
    assert mail.outbox == []

    assert notifications_send_digests(now=MORNING_UTC) == 1  # 08:30 in Zurich, 02:30 in New York
    assert [m.to for m in mail.outbox] == [[zurich.email]]
    assert not Notification.objects.filter(user=zurich, emailed_at__isnull=True).exists()
    assert Notification.objects.filter(user=new_york, emailed_at__isnull=True).count() == 2

    assert notifications_send_digests(now=MORNING_UTC + datetime.timedelta(hours=6)) == 1  # 08:30 in New York
    assert [m.to for m in mail.outbox] == [[zurich.email], [new_york.email]]
    assert NotificationPreference.objects.get(user=new_york).last_digest_on == datetime.date(2027, 1, 15)


def test_one_digest_lists_every_waiting_notification_with_links_in_both_parts(two_zones):
    zurich, _ = two_zones
    notifications_send_digests(now=MORNING_UTC)
    (message,) = mail.outbox
    assert message.to == [zurich.email]
    assert message.subject == "[Warning] Your cro_cmo digest of 15 January 2027: 2 notifications"
    text, html = parts(message)
    for part in (text, html):
        assert "Milestone M1 overdue" in part and "Contract ending" in part
        assert "https://cro.example/contracts/1/" in part and "https://cro.example/contracts/2/" in part
        assert "https://cro.example/notifications/preferences/" in part
    assert text.index("Milestone M1 overdue") < text.index("Contract ending")  # oldest first


def test_the_digest_is_sent_once_when_run_twice_and_again_the_next_day_only_with_news(two_zones):
    zurich, _ = two_zones
    assert notifications_send_digests(now=MORNING_UTC) == 1
    assert notifications_send_digests(now=MORNING_UTC) == 0
    assert notifications_send_digests(now=MORNING_UTC + datetime.timedelta(minutes=15)) == 0
    assert len(mail.outbox) == 1

    next_morning = MORNING_UTC + datetime.timedelta(days=1)
    assert notifications_send_digests(now=next_morning) == 0  # a new day, but nothing new for Zurich
    deliver(zurich.sponsor, title="Invoice submitted")
    assert notifications_send_digests(now=next_morning) == 1
    assert mail.outbox[-1].to == [zurich.email] and "Invoice submitted" in mail.outbox[-1].body
    assert "Contract ending" not in mail.outbox[-1].body  # already sent yesterday


def test_a_worker_that_lost_the_race_claims_nothing(two_zones):
    """Two workers find the same users due; the one that claims second sends nothing."""
    due, local_dates = services._digest_due(MORNING_UTC)  # worker A reads who is due …
    assert [row["user_id"] for row in due] == [two_zones[0].pk]
    assert notifications_send_digests(now=MORNING_UTC) == 1  # … worker B claims and sends first
    assert services._claim_digests(due, local_dates) == {}  # A's conditional UPDATE changes no row
    assert len(mail.outbox) == 1


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent connections need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_digest_once(settings):
    settings.MAILERS = LOCMEM
    sponsor = SponsorFactory(name="Acme", slug="acme")
    people = [UserFactory(email=f"p{i}@acme.test", sponsor=sponsor) for i in range(6)]
    for person in people:
        prefer(person, EmailMode.DAILY_DIGEST)
    deliver(sponsor)
    start, sent = threading.Barrier(2), []

    def worker():
        try:
            start.wait(timeout=30)
            sent.append(notifications_send_digests(now=MORNING_UTC))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(sent) == 6
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)


def test_a_failed_digest_is_retried_by_the_next_run(two_zones, settings):
    zurich, _ = two_zones
    settings.MAILERS = FAILING
    assert notifications_send_digests(now=MORNING_UTC) == 0
    assert NotificationPreference.objects.get(user=zurich).last_digest_on is None  # the claim was undone
    assert Notification.objects.filter(user=zurich, emailed_at__isnull=True).count() == 2
    settings.MAILERS = LOCMEM
    assert notifications_send_digests(now=MORNING_UTC + datetime.timedelta(minutes=15)) == 1
    assert [m.to for m in mail.outbox] == [[zurich.email]]


def test_switching_email_back_on_sends_no_backlog_of_what_happened_while_off(team, settings):
    settings.MAILERS = LOCMEM
    sponsor, users = team
    quiet = users[EmailMode.OFF]
    deliver(sponsor, title="While off")
    prefer(quiet, EmailMode.DAILY_DIGEST)
    deliver(sponsor, title="After switching on")
    mail.outbox.clear()
    notifications_send_digests(now=datetime.datetime.now(UTC) + datetime.timedelta(days=1))
    theirs = [m for m in mail.outbox if m.to == [quiet.email]]
    assert len(theirs) == 1
    assert "After switching on" in theirs[0].body and "While off" not in theirs[0].body


def test_who_is_due_is_found_in_two_queries_however_many_users(db, django_assert_max_num_queries):
    sponsor = SponsorFactory(name="Acme", slug="acme")
    for i, zone in enumerate(["Europe/Zurich", "America/New_York", "Asia/Tokyo"] * 10):
        prefer(UserFactory(email=f"u{i}@acme.test", sponsor=sponsor), EmailMode.DAILY_DIGEST,
               digest_time=datetime.time(23, 59), time_zone=zone)  # fmt: skip
    with django_assert_max_num_queries(2):
        assert notifications_send_digests(now=datetime.datetime(2027, 1, 15, 12, 0, tzinfo=UTC)) == 0


def test_the_digest_task_is_on_the_beat_schedule(settings):
    from notifications.tasks import send_digests

    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "notifications.tasks.send_digests"]
    assert len(entries) == 1 and entries[0]["schedule"] <= 900
    assert send_digests.name == "notifications.tasks.send_digests"


# --- The preferences page ------------------------------------------------------------------------


@pytest.fixture
def viewer(db):
    return UserFactory(email="viewer@acme.test", sponsor=SponsorFactory(name="Acme", slug="acme"), role=Role.VIEWER)


def browser(user):
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_the_page_shows_and_saves_the_users_own_preference_viewers_too(viewer):
    client = browser(viewer)
    page = client.get("/notifications/preferences/").content.decode()
    assert 'value="immediate" id="id_email_mode_0" required checked' in page
    assert 'name="digest_time" value="08:00"' in page
    response = client.post("/notifications/preferences/",
                           {"email_mode": "daily_digest", "digest_time": "17:45", "time_zone": "Asia/Tokyo"})  # fmt: skip
    assert response.status_code == 302 and response.url == "/notifications/preferences/"
    saved = NotificationPreference.objects.get(user=viewer)
    assert (saved.email_mode, saved.digest_time, saved.time_zone) == (
        "daily_digest",
        datetime.time(17, 45),
        "Asia/Tokyo",
    )
    assert "Every day at 17:45, Asia/Tokyo" in client.get("/notifications/preferences/").content.decode()


@pytest.mark.parametrize(
    "data, field",
    [({"email_mode": "daily_digest", "digest_time": "08:00", "time_zone": "Mars/Olympus"}, "Time zone"),
     ({"email_mode": "daily_digest", "digest_time": "25:00", "time_zone": "UTC"}, "Digest time"),
     ({"email_mode": "weekly", "digest_time": "08:00", "time_zone": "UTC"}, "E-mail me")],
)  # fmt: skip
def test_bad_input_on_the_page_is_a_form_error_and_nothing_changes(viewer, data, field):
    response = browser(viewer).post("/notifications/preferences/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="error-summary"' in html and f">{field}</a>:" in html
    assert notification_preference_get(viewer).email_mode == EmailMode.IMMEDIATE


def test_the_page_is_linked_from_the_notifications_page_and_the_user_menu(viewer):
    html = browser(viewer).get("/notifications/").content.decode()
    assert html.count('href="/notifications/preferences/"') == 2


# --- The API -------------------------------------------------------------------------------------


def test_the_api_reads_and_writes_only_the_callers_preference(api_client_for, viewer):
    other = UserFactory(email="other@acme.test", sponsor=viewer.sponsor)
    prefer(other, EmailMode.OFF, time_zone="Asia/Tokyo")
    client = api_client_for(viewer)
    got = client.get("/api/v1/notification-preferences/me/").json()
    assert got["email_mode"] == "immediate" and got["digest_time"] == "08:00" and got["last_digest_on"] is None

    body = {"email_mode": "daily_digest", "digest_time": "06:15", "time_zone": "America/New_York"}
    put = client.put("/api/v1/notification-preferences/me/", body, format="json")
    assert put.status_code == 200 and put.json()["time_zone"] == "America/New_York"
    patched = client.patch("/api/v1/notification-preferences/me/", {"email_mode": "off"}, format="json").json()
    assert (patched["email_mode"], patched["digest_time"], patched["time_zone"]) == (
        "off",
        "06:15",
        "America/New_York",
    )
    assert NotificationPreference.objects.get(user=other).email_mode == EmailMode.OFF  # untouched
    assert NotificationPreference.objects.get(user=other).time_zone == "Asia/Tokyo"


@pytest.mark.parametrize(
    "body, field",
    [({"email_mode": "daily_digest", "digest_time": "08:00", "time_zone": "Mars/Olympus"}, "time_zone"),
     ({"email_mode": "daily_digest", "digest_time": "8 o'clock", "time_zone": "UTC"}, "digest_time"),
     ({"email_mode": "daily_digest", "digest_time": "8:00", "time_zone": "UTC"}, "digest_time"),
     ({"email_mode": "daily_digest", "digest_time": "08:00+01:00", "time_zone": "UTC"}, "digest_time"),
     ({"email_mode": "hourly", "digest_time": "08:00", "time_zone": "UTC"}, "email_mode"),
     ({"email_mode": "off"}, "digest_time")],  # PUT needs every field
)  # fmt: skip
def test_bad_input_to_the_api_is_a_400_naming_the_field(api_client_for, viewer, body, field):
    response = api_client_for(viewer).put("/api/v1/notification-preferences/me/", body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert notification_preference_get(viewer).email_mode == EmailMode.IMMEDIATE


def test_the_api_and_page_ask_anonymous_to_sign_in(db):
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/notification-preferences/me/").status_code == 401
    response = Client().get("/notifications/preferences/")
    assert response.status_code == 302 and "/accounts/login/" in response.url
