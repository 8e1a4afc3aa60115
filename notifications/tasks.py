from celery import shared_task

from notifications.services import notifications_send_digests, outbox_deliver_pending


@shared_task(name="notifications.tasks.deliver_outbox", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, retry_kwargs={"max_retries": 5})  # fmt: skip
def deliver_outbox() -> int:
    """Deliver pending outbox events. Idempotent: rows are claimed, notifications are unique."""
    return outbox_deliver_pending()


@shared_task(name="notifications.tasks.send_digests", acks_late=True)
def send_digests() -> int:
    """Send the daily digests that are due (run every few minutes by beat). Safe on two workers at once:
    each digest is claimed before it is sent. A failed e-mail is retried by the next run, not here."""
    return notifications_send_digests()
