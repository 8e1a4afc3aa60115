"""The transactional outbox and what it feeds: in-app notifications and e-mail (webhooks later)."""

import datetime
import functools
import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from cro_cmo.models import VisibleQuerySet


class EventStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


class OutboxEvent(models.Model):
    """Something that happened, written in the same transaction as the change that caused it.

    A Celery task delivers pending events (notifications, e-mail); if the broker is down when
    the transaction commits, the periodic sweep delivers them later, so nothing is lost.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(max_length=64, db_index=True)
    sponsor = models.ForeignKey("sponsors.Sponsor", null=True, blank=True, on_delete=models.CASCADE)
    vendor = models.ForeignKey("vendors.Vendor", null=True, blank=True, on_delete=models.CASCADE)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            # The sweep reads only pending rows: a partial index keeps it cheap however long the log grows.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="outbox_pending_idx"),
        ]

    def __str__(self):
        return f"{self.event_type}: {self.title}"


class NotificationQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        return self.filter(user=user)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """An event as one user sees it in the app (and, once, by e-mail)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="notifications")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="notification_once_per_event_and_user"),
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread_idx")]

    def __str__(self):
        return f"{self.event.title} → {self.user}"


class EmailMode(models.TextChoices):
    IMMEDIATE = "immediate", "Immediately, one e-mail per notification"
    DAILY_DIGEST = "daily_digest", "Once a day, one digest e-mail"
    OFF = "off", "Never (in the app only)"


@functools.cache
def known_time_zones() -> frozenset[str]:
    """The IANA zone names this system knows (``zoneinfo``), read once."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in known_time_zones():
        raise ValidationError("Not a time zone name this system knows: use an IANA name such as Europe/Zurich.")


def default_time_zone() -> str:
    return settings.TIME_ZONE


class NotificationPreferenceQuerySet(VisibleQuerySet):
    def visible_to(self, user, action):
        return self.filter(user=user)


class NotificationPreference(models.Model):
    """How one user wants notifications by e-mail. Created lazily, with the defaults, on first read.

    In-app notifications are always created; the mode decides only the e-mail: one per notification
    as it happens, one digest a day at ``digest_time`` in ``time_zone``, or none.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_mode = models.CharField("E-mail me", max_length=16, choices=EmailMode.choices, default=EmailMode.IMMEDIATE)
    digest_time = models.TimeField(
        "Digest time", default=datetime.time(8, 0), help_text="When the daily digest goes out, in your time zone."
    )
    time_zone = models.CharField(
        "Time zone", max_length=64, default=default_time_zone, validators=[validate_time_zone],
        help_text="An IANA zone name, e.g. Europe/Zurich or America/New_York.",
    )  # fmt: skip
    # The local date of the last digest claimed: the conditional UPDATE on it lets one worker only send it.
    last_digest_on = models.DateField(null=True, blank=True, editable=False)
    # E-mail only notifications created from this moment on: set when e-mail is switched back on, so
    # turning "off" into a digest does not send a backlog of everything that happened while it was off.
    email_from = models.DateTimeField(null=True, blank=True, editable=False)
    updated = models.DateTimeField(auto_now=True)

    objects = NotificationPreferenceQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["time_zone", "digest_time"], condition=Q(email_mode="daily_digest"),
                         name="notification_pref_digest_idx"),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.user}: {self.get_email_mode_display()}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)
