"""Thin Celery tasks of the platform itself."""

from celery import shared_task

from cro_cmo.checks import run_all_checks


@shared_task(name="cro_cmo.tasks.run_checks", acks_late=True)
def run_checks() -> dict:
    outcomes = run_all_checks()
    return {o.name: {"raised": len(o.raised), "resolved": len(o.resolved)} for o in outcomes}


@shared_task(name="cro_cmo.tasks.ping")
def ping(value: str) -> str:
    """Round-trip probe used by the worker test and by operators: returns what it was sent."""
    return f"pong:{value}"
