"""Emit events into the outbox; deliver them to notifications and e-mail."""

import logging
import zoneinfo
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import DateTimeField, Exists, F, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from notifications.emails import digest_message, notification_message
from notifications.models import EmailMode, EventStatus, Notification, NotificationPreference, OutboxEvent

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)


def kick_delivery() -> None:
    """Ask a worker to deliver now. If the broker is down, the beat sweep catches up later."""
    from notifications.tasks import deliver_outbox

    try:
        # Fire and forget: asking for the result would subscribe to the result backend, which with
        # Redis down retries for 20 s inside the request (the broker-down test measures this).
        deliver_outbox.apply_async(ignore_result=True)
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
    """Create the in-app notifications (idempotent), then e-mail each recipient who wants it now.

    Only users whose preference is ``immediate`` (the default, also without a preference row) get an
    e-mail here; ``daily_digest`` users get theirs from ``notifications_send_digests``, ``off`` none.
    Each e-mail is recorded as sent right after it leaves (autocommit, no enclosing transaction), so
    a failure part-way through never makes the retry e-mail anyone twice.
    """
    Notification.objects.bulk_create(
        [Notification(event=event, user=user) for user in event_recipients(event)], ignore_conflicts=True
    )
    immediate = Q(user__notification_preference__isnull=True) | Q(
        user__notification_preference__email_mode=EmailMode.IMMEDIATE
    )
    for note in event.notifications.filter(immediate, emailed_at__isnull=True).select_related("user"):
        notification_message(event, note.user).send()
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


# --- E-mail preferences and the daily digest ------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def notification_preference_get(user: User) -> NotificationPreference:
    """The user's e-mail preference, created with the defaults (immediate, 08:00, ``TIME_ZONE``) on first read."""
    preference, _ = NotificationPreference.objects.get_or_create(user=user)
    return preference


def notification_preference_update(*, user: User, email_mode: str, digest_time, time_zone: str,
                                   now: datetime | None = None) -> NotificationPreference:  # fmt: skip
    """Change the user's own e-mail preference; raises ``ValidationError`` (per field) on bad input.

    Switching e-mail back on after ``off`` e-mails only what happens from now on: the notifications
    created while it was off stay in the app (no backlog in the next digest).
    """
    preference = notification_preference_get(user)
    was_off = preference.email_mode == EmailMode.OFF
    preference.email_mode, preference.digest_time, preference.time_zone = email_mode, digest_time, time_zone
    preference.full_clean(exclude=["user"])
    if was_off and email_mode != EmailMode.OFF:
        preference.email_from = now or timezone.now()
    preference.save()
    return preference


def _digest_due(now: datetime) -> tuple[list[dict], dict[str, object]]:
    """Digest users whose local digest time has passed today, who had no digest today and have something
    to read: ``(rows, local date per zone)``. Two queries whatever the number of users: the zones in
    use, then one filtered select (a condition per zone, each with that zone's local date and time).
    """
    digest_users = NotificationPreference.objects.filter(email_mode=EmailMode.DAILY_DIGEST, user__is_active=True)
    local_dates, due = {}, Q(pk__in=[])
    for name in digest_users.order_by().values_list("time_zone", flat=True).distinct():
        try:
            local = now.astimezone(zoneinfo.ZoneInfo(name))
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            logger.warning("Digest skipped for time zone %r: unknown to this system.", name)
            continue
        local_dates[name] = local.date()
        not_yet_today = Q(last_digest_on__isnull=True) | Q(last_digest_on__lt=local.date())
        due |= Q(time_zone=name, digest_time__lte=local.time()) & not_yet_today
    if not local_dates:
        return [], {}
    waiting = _unmailed().filter(user_id=OuterRef("user_id"), created__gte=_email_from(OuterRef("email_from")))
    rows = digest_users.filter(due).filter(Exists(waiting)).values("pk", "user_id", "time_zone", "last_digest_on")
    return list(rows.order_by("pk")), local_dates


def _email_from(ref):
    """The moment from which a user's notifications are e-mailed (no ``email_from``: all of them)."""
    return Coalesce(ref, Value(EPOCH, output_field=DateTimeField()))


def _unmailed():
    return Notification.objects.filter(emailed_at__isnull=True)


def _claim_digests(due: list[dict], local_dates: dict) -> dict[int, dict]:
    """Claim each due digest by a conditional UPDATE; return the rows this worker won, by user id.

    The UPDATE sets ``last_digest_on`` to the local today only where it is still before it: of two
    workers that both found the user due, one updates the row, the other updates nothing and skips it.
    """
    claimed = {}
    for row in due:
        today = local_dates[row["time_zone"]]
        not_yet_today = Q(last_digest_on__isnull=True) | Q(last_digest_on__lt=today)
        if NotificationPreference.objects.filter(not_yet_today, pk=row["pk"]).update(last_digest_on=today):
            claimed[row["user_id"]] = row
    return claimed


def notifications_send_digests(*, now: datetime | None = None) -> int:
    """Send each due digest user ONE e-mail listing their notifications not yet e-mailed; return how many went.

    Safe to run on two workers at once: each user's digest is claimed by a conditional UPDATE of
    ``last_digest_on`` (only where it is still before the local today), so one worker sends it. The listed
    notifications are marked e-mailed right after it leaves. If sending fails the claim is undone and the
    next run tries again; if a worker dies in between, the notifications wait for tomorrow's digest.
    """
    now = now or timezone.now()
    due, local_dates = _digest_due(now)
    claimed = _claim_digests(due, local_dates)
    if not claimed:
        return 0
    notes_by_user = defaultdict(list)
    notes = (
        _unmailed()
        .filter(user_id__in=claimed, user__is_active=True)
        .filter(created__gte=_email_from(F("user__notification_preference__email_from")))
        .select_related("event", "user")
        .order_by("user_id", "created", "id")
    )
    for note in notes:
        notes_by_user[note.user_id].append(note)
    sent = 0
    for user_id, user_notes in notes_by_user.items():
        row = claimed[user_id]
        today = local_dates[row["time_zone"]]
        message = digest_message(user_notes[0].user, [n.event for n in user_notes], today, row["time_zone"])
        try:
            message.send()
        except Exception:
            logger.exception("Digest e-mail to user %s failed; the next run tries again.", user_id)
            NotificationPreference.objects.filter(pk=row["pk"], last_digest_on=today).update(
                last_digest_on=row["last_digest_on"]
            )
            continue
        Notification.objects.filter(pk__in=[n.pk for n in user_notes]).update(emailed_at=timezone.now())
        sent += 1
    return sent
