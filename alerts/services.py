"""Alert services: the event-driven re-check and acknowledgement."""

from collections.abc import Iterable

from django.db import transaction

from alerts.definitions import ALERT_CHECKS
from alerts.engine import RunResult, run_check


def alerts_recheck(
    *, contract_ids: Iterable[int] = (), program_ids: Iterable[int] = (), vendor_ids: Iterable[int] = (),
    qualification_ids: Iterable[int] = (),
) -> dict[str, RunResult]:  # fmt: skip
    """Run every check that concerns these subjects, limited to them: what a change just caused is
    raised or resolved at once instead of at the next beat. Returns each check's result by name."""
    scopes = {
        "contract": set(contract_ids), "program": set(program_ids), "vendor": set(vendor_ids),
        "qualification": set(qualification_ids),
    }  # fmt: skip
    results = {}
    for check in ALERT_CHECKS:
        ids = scopes[check.scope]
        if ids:
            results[check.name] = run_check(check, scope_ids=ids)
    return results


def alerts_recheck_on_commit(**scopes) -> None:
    """Re-check after the caller's transaction commits (a rolled-back change re-checks nothing).

    A failure here is the next beat's to repair: it must never undo or fail the request that caused it.
    """

    def recheck():
        import logging

        try:
            alerts_recheck(**scopes)
        except Exception:
            logging.getLogger(__name__).exception("Event-driven re-check failed (%s); beat will catch up", scopes)

    transaction.on_commit(recheck)
