"""Thin Celery tasks of the platform itself."""

import logging

from celery import shared_task

from cro_cmo.checks import run_all_checks, run_one_check

logger = logging.getLogger(__name__)


@shared_task(name="cro_cmo.tasks.run_checks", acks_late=True)
def run_checks() -> dict:
    """Every check in one task (operators, demos); beat schedules them one by one (``run_check``)."""
    return {o.name: o.error or o.counts for o in run_all_checks()}


@shared_task(
    name="cro_cmo.tasks.run_check", acks_late=True, autoretry_for=(Exception,), retry_backoff=5,
    retry_backoff_max=300, retry_kwargs={"max_retries": 5},
)  # fmt: skip
def run_check(name: str) -> dict:
    """One check, as beat schedules it. A failure is logged with the check's name and retried; being
    idempotent, a retried or re-delivered run (``acks_late``) raises nothing twice."""
    try:
        return run_one_check(name).counts
    except Exception:
        logger.exception("Background check %s failed; retrying", name)
        raise


@shared_task(name="cro_cmo.tasks.ping")
def ping(value: str) -> str:
    """Round-trip probe used by the worker test and by operators: returns what it was sent."""
    return f"pong:{value}"
