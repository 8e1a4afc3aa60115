"""Emit events into the outbox; deliver them to notifications and e-mail."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from notifications.models import EventStatus, Notification, OutboxEvent

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)


def kick_delivery() -> None:
    """Ask a worker to deliver now. If the broker is down, the beat sweep catches up later."""
    from notifications.tasks import deliver_outbox

    try:
        deliver_outbox.delay()
    except Exception:
        logger.warning("Broker unreachable: outbox delivery left to the periodic sweep.", exc_info=True)


def event_emit(
    event_type: str, *, title: str, body: str = "", url: str = "", sponsor=None, vendor=None,
    payload: dict | None = None,
) -> OutboxEvent:  # fmt: skip
    """Write an event for the sponsor and/or vendor concerned, in the caller's transaction.

    Delivery is kicked only after the transaction commits, so a rolled-back change emits nothing.
    """
    if sponsor is None and vendor is None:
        raise ValueError("An event needs an audience: a sponsor, a vendor or both.")
    event = OutboxEvent.objects.create(
        event_type=event_type, title=title[:200], body=body, url=url, sponsor=sponsor, vendor=vendor,
        payload=payload or {},
    )  # fmt: skip
    transaction.on_commit(kick_delivery)
    return event


def events_emit_many(events: list[dict]) -> list[OutboxEvent]:
    """Write many events in one statement, in the caller's transaction; one delivery kick after commit.

    Each dict holds ``event_type``, ``title`` and optionally ``body``, ``url``, ``sponsor_id``,
    ``vendor_id`` and ``payload``. The background checks raise alerts in bulk through this.
    """
    rows = []
    for event in events:
        if event.get("sponsor_id") is None and event.get("vendor_id") is None:
            raise ValueError("An event needs an audience: a sponsor, a vendor or both.")
        rows.append(_outbox_row(event))
    created = OutboxEvent.objects.bulk_create(rows, batch_size=1000)
    if created:
        transaction.on_commit(kick_delivery)
    return created


def _outbox_row(event: dict) -> OutboxEvent:
    return OutboxEvent(
        event_type=event["event_type"], title=event["title"][:200], body=event.get("body", ""),
        url=event.get("url", ""), sponsor_id=event.get("sponsor_id"), vendor_id=event.get("vendor_id"),
        payload=event.get("payload") or {},
    )  # fmt: skip


def event_recipients(event: OutboxEvent):
    """Active people of the organisations the event concerns."""
    users = User.objects.none()
    if event.sponsor_id:
        users = users | User.objects.filter(sponsor_id=event.sponsor_id, is_active=True)
    if event.vendor_id:
        users = users | User.objects.filter(vendor_id=event.vendor_id, is_active=True)
    return users


def _notify(event: OutboxEvent) -> None:
    """Create the in-app notifications (idempotent), then e-mail each recipient not yet e-mailed.

    Each e-mail is recorded as sent right after it leaves (autocommit, no enclosing transaction), so
    a failure part-way through never makes the retry e-mail anyone twice.
    """
    Notification.objects.bulk_create(
        [Notification(event=event, user=user) for user in event_recipients(event)], ignore_conflicts=True
    )
    for note in event.notifications.filter(emailed_at__isnull=True).select_related("user"):
        body = f"{event.body}\n\n{settings.SITE_URL}{event.url}".strip() if event.url else event.body
        send_mail(event.title, body or event.title, None, [note.user.email])
        Notification.objects.filter(pk=note.pk).update(emailed_at=timezone.now())


def _claim_due(batch_size: int) -> list[OutboxEvent]:
    """Lease a batch of due events: ``FOR UPDATE SKIP LOCKED`` then push ``next_attempt_at`` past the lease.

    Two workers never take the same event; an event whose worker dies is retried when its lease ends.
    """
    with transaction.atomic():
        due = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(status=EventStatus.PENDING, next_attempt_at__lte=timezone.now())
            .order_by("id")[:batch_size]
        )
        OutboxEvent.objects.filter(pk__in=[e.pk for e in due]).update(next_attempt_at=timezone.now() + LEASE)
    return due


def outbox_deliver_pending(*, batch_size: int = 100) -> int:
    """Deliver due pending events; return how many were delivered.

    1. Lease a batch (see ``_claim_due``).
    2. Deliver each; on failure back off exponentially and keep it pending, or give up after MAX_ATTEMPTS.
    """
    delivered = 0
    for event in _claim_due(batch_size):
        try:
            _notify(event)
        except Exception as exc:
            event.attempts += 1
            event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if event.attempts >= MAX_ATTEMPTS:
                event.status = EventStatus.FAILED
            event.next_attempt_at = timezone.now() + timedelta(seconds=30 * 2**event.attempts)
            event.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            logger.exception("Delivery of outbox event %s failed", event.pk)
            continue
        event.status = EventStatus.DELIVERED
        event.delivered_at = timezone.now()
        event.attempts += 1
        event.save(update_fields=["status", "delivered_at", "attempts"])
        delivered += 1
    return delivered


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the user's notifications (all, or those in ``ids``) read; returns how many changed."""
    qs = Notification.objects.for_user(user).unread()
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now(), updated=timezone.now())
