"""Registry of background checks (spec §4): each check is a function returning a CheckOutcome.

Checks register themselves with ``@register_check("name")`` in their app's ``checks.py``;
``run_all_checks()`` (the ``run_checks`` command and the beat task) runs every one of them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module

from django.apps import apps


@dataclass
class CheckOutcome:
    """What one run of one check did: the alerts it raised and the ones it resolved."""

    name: str
    raised: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)


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


def run_all_checks() -> list[CheckOutcome]:
    return [check() for check in registered_checks().values()]
