from celery import shared_task

from notifications.services import outbox_deliver_pending


@shared_task(name="notifications.tasks.deliver_outbox", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, retry_kwargs={"max_retries": 5})  # fmt: skip
def deliver_outbox() -> int:
    """Deliver pending outbox events. Idempotent: rows are claimed, notifications are unique."""
    return outbox_deliver_pending()
