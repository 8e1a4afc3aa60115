"""The e-mails notifications send: one per notification, or one daily digest. Both multipart (text + HTML).

Links are absolute (``settings.SITE_URL``): to the object the event is about and to the preferences page.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from notifications.models import OutboxEvent

SEVERITY_ORDER = ["info", "warning", "critical"]
DIGEST_LIST_LIMIT = 50  # a digest lists this many; the rest are counted and left to the notifications page


def event_severity(event: OutboxEvent) -> str:
    """The alert's severity (``payload["severity"]``) of an alert event, else ``""``."""
    severity = (event.payload or {}).get("severity") if isinstance(event.payload, dict) else None
    return severity if event.event_type.startswith("alert_") and severity in SEVERITY_ORDER else ""


def absolute_url(path: str) -> str:
    """``SITE_URL`` + a site path; ``""`` for an empty or non-local path."""
    if not path or not path.startswith("/") or path.startswith("//"):
        return ""
    return f"{settings.SITE_URL}{path}"


def _subject(text: str, severity: str = "") -> str:
    subject = f"[{severity.capitalize()}] {text}" if severity else text
    return " ".join(subject.split())[:250]  # no line breaks in a header


def _message(subject: str, template: str, context: dict, to: str) -> EmailMultiAlternatives:
    context = {
        **context,
        "site_url": settings.SITE_URL,
        "preferences_url": absolute_url(reverse("notification-preferences")),
        "notifications_url": absolute_url(reverse("notifications")),
    }
    message = EmailMultiAlternatives(subject, render_to_string(f"{template}.txt", context), None, [to])
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def _item(event: OutboxEvent) -> dict:
    return {"event": event, "severity": event_severity(event), "link": absolute_url(event.url)}


def notification_message(event: OutboxEvent, user) -> EmailMultiAlternatives:
    """The e-mail of one notification, sent as it happens."""
    item = _item(event)
    return _message(_subject(event.title, item["severity"]), "notifications/email/notification",
                    {"item": item, "user": user}, user.email)  # fmt: skip


def digest_message(user, events: list[OutboxEvent], local_date, time_zone: str) -> EmailMultiAlternatives:
    """One e-mail listing ``events`` (oldest first); its subject carries the highest alert severity."""
    items = [_item(event) for event in events]
    severity = max((i["severity"] for i in items if i["severity"]), key=SEVERITY_ORDER.index, default="")
    count = len(items)
    plural = "s" if count != 1 else ""
    text = f"Your cro_cmo digest of {local_date.day} {local_date:%B %Y}: {count} notification{plural}"
    context = {"items": items[:DIGEST_LIST_LIMIT], "more": max(0, count - DIGEST_LIST_LIMIT), "count": count,
               "user": user, "local_date": local_date, "time_zone": time_zone}  # fmt: skip
    return _message(_subject(text, severity), "notifications/email/digest", context, user.email)
