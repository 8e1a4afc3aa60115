"""The transactional outbox and what it feeds: in-app notifications and e-mail (webhooks later)."""

import uuid

from django.conf import settings
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
