"""Registry of background checks (spec §4): each check is a function returning a CheckOutcome.

Checks register themselves with ``@register_check("name")`` in their app's ``checks.py``;
``run_all_checks()`` (the ``run_checks`` command and the beat task) runs every one of them.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module

from django.apps import apps

logger = logging.getLogger(__name__)


@dataclass
class CheckOutcome:
    """What one run of one check did: the alerts it raised, escalated and resolved.

    The lists hold titles to print (a check over a large data set keeps a sample); the ``*_count``
    fields, when set, are the complete numbers. ``error`` says why a check failed, if it did.
    """

    name: str
    raised: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    raised_count: int | None = None
    resolved_count: int | None = None
    escalated_count: int | None = None
    error: str = ""

    @property
    def counts(self) -> dict[str, int]:
        def count(explicit, sample):
            return len(sample) if explicit is None else explicit

        return {
            "raised": count(self.raised_count, self.raised),
            "escalated": count(self.escalated_count, self.escalated),
            "resolved": count(self.resolved_count, self.resolved),
        }


CheckFunction = Callable[[], CheckOutcome]
_REGISTRY: dict[str, CheckFunction] = {}


def register_check(name: str):
    def decorator(func: Callable[[], CheckOutcome]) -> Callable[[], CheckOutcome]:
        _REGISTRY[name] = func
        return func

    return decorator


def registered_checks() -> dict[str, CheckFunction]:
    """Import every app's ``checks`` module once, then return the registry."""
    for config in apps.get_app_configs():
        try:
            import_module(f"{config.name}.checks")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.checks":
                raise
    return dict(_REGISTRY)


def run_one_check(name: str) -> CheckOutcome:
    """Run one registered check by name (the per-check Celery task); an exception propagates."""
    return registered_checks()[name]()


def run_all_checks(names: list[str] | None = None) -> list[CheckOutcome]:
    """Run every check (or those named); one that fails is logged with its name and does not stop the others."""
    outcomes = []
    for name, check in registered_checks().items():
        if names is not None and name not in names:
            continue
        try:
            outcomes.append(check())
        except Exception as exc:
            logger.exception("Background check %s failed", name)
            outcomes.append(CheckOutcome(name=name, error=f"{type(exc).__name__}: {exc}"))
    return outcomes
